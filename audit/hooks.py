"""Where reads and writes of patients' records are caught: DRF views and ModelAdmins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from audit.models import AuditEvent
from audit.services import audit_record
from ketaminecare.access.labels import PATIENT

Action = AuditEvent.Action


def patient_id_of(obj: Any) -> int | None:
    """The patient an object belongs to: a Patient, anything with patient_id, or such a dict."""
    if getattr(getattr(obj, "_meta", None), "label_lower", None) == PATIENT:
        return obj.pk if isinstance(obj.pk, int) else None
    if isinstance(obj, dict):
        value = obj.get("patient_id")
        if value is None and isinstance(obj.get("patient"), dict):
            value = obj["patient"].get("id")
        return value if isinstance(value, int) else None
    value = getattr(obj, "patient_id", None)
    return value if isinstance(value, int) else None


def _object_type(objects: list[Any]) -> str:
    first = objects[0] if objects else None
    if first is None or isinstance(first, dict):
        return ""
    return str(first._meta.label_lower) if hasattr(first, "_meta") else type(first).__name__


class AuditedViewMixin:
    """For DRF views: records the patients whose rows a request read or changed.

    Objects are caught as they pass through ``get_object`` and ``paginate_queryset``; a view
    that builds its answer otherwise (a service's return value) calls ``audit_touch``.
    """

    _audit_objects: list[Any]
    _audit_patients: set[int]
    audit_channel: str = AuditEvent.Channel.API

    def audit_touch(self, *objects: Any, patient_ids: Iterable[int] = ()) -> None:
        """Record these objects (and their patients), and patients the answer showed besides."""
        if not hasattr(self, "_audit_objects"):
            self._audit_objects = []
            self._audit_patients = set()
        self._audit_objects.extend(objects)
        self._audit_patients.update(patient_ids)

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        self.audit_touch(obj)
        return obj

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self.audit_touch(*page)
        return page

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        objects = getattr(self, "_audit_objects", [])
        if objects or getattr(self, "_audit_patients", None):
            verb = getattr(self, "action", None) or type(self).__name__
            method = request.method
            if method in ("GET", "HEAD"):
                action = Action.VIEW if len(objects) == 1 and verb != "list" else Action.LIST
            elif method in ("PUT", "PATCH"):
                action = Action.UPDATE
            elif method == "DELETE":
                action = Action.DELETE
            else:
                action = Action.CREATE if verb == "create" else Action.ACTION
            single = objects[0] if len(objects) == 1 else None
            audit_record(
                request=request,
                channel=self.audit_channel,
                action=action,
                verb=str(verb),
                patient_ids=[*(patient_id_of(o) for o in objects), *self._audit_patients],
                object_type=_object_type(objects),
                object_id=getattr(single, "pk", "") if single is not None else "",
                status_code=response.status_code,
            )
            self._audit_objects = []
            self._audit_patients = set()
        return response


class AuditedAdminMixin:
    """For ModelAdmins of patients' records: list pages, change pages, actions, deletes."""

    def _record(
        self, request: HttpRequest, action: str, objects: Iterable[Any], verb: str = "", object_id: Any = ""
    ) -> None:
        objects = list(objects)
        audit_record(
            request=request,
            channel=AuditEvent.Channel.ADMIN,
            action=action,
            verb=verb,
            patient_ids=(patient_id_of(o) for o in objects),
            object_type=self.model._meta.label_lower,  # type: ignore[attr-defined]
            object_id=object_id,
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST" and request.POST.get("action"):
            selected = request.POST.getlist("_selected_action")
            chosen = self.model.objects.filter(pk__in=selected)  # type: ignore[attr-defined]
            self._record(request, Action.ACTION, chosen, verb=request.POST["action"])
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if changelist is not None:
            self._record(request, Action.LIST, changelist.result_list, verb="changelist")
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is not None:
            action = Action.VIEW if request.method == "GET" else Action.UPDATE
            self._record(request, action, [obj], verb="change_view", object_id=obj.pk)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is not None:
            self._record(request, Action.VIEW, [obj], verb="history", object_id=obj.pk)
        return response
