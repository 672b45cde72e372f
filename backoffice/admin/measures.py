"""The admin of outcome measures and the alerts they raise.

A measure is a clinical record written by ``measure_record`` (the API): read here, never edited
(a wrong one is entered again). An alert is acknowledged by a clinician through the service, by
this admin's action, so the rule (once, by whom, when) holds here as in the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from typing_extensions import override

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import ServicesOnlyAdmin, ViewOnlyAdmin
from ketaminecare.errors import DomainError
from measures.models import Measure, MeasureAlert
from measures.services import measure_alert_acknowledge


class OpenFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    @override
    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(MeasureAlert.Status.choices)

    @override
    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in MeasureAlert.Status.values:
            return queryset.filter(acknowledged_at__isnull=self.value() == MeasureAlert.Status.OPEN)
        return queryset


@admin.register(Measure)
class MeasureAdmin(AuditedAdminMixin, ViewOnlyAdmin):
    list_display = ("answered_at", "patient", "instrument", "total", "severity", "probable_ptsd", "source", "course")
    list_filter = ("instrument", "severity", "source")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "course__protocol", "course__patient")
    fields = (
        "patient",
        "course",
        "instrument",
        "answers",
        "total",
        "severity",
        "clusters",
        "probable_ptsd",
        "source",
        "entered_by",
        "answered_at",
        "created_at",
    )
    readonly_fields = fields


@admin.register(MeasureAlert)
class MeasureAlertAdmin(AuditedAdminMixin, ServicesOnlyAdmin):
    list_display = ("raised_at", "patient", "reason", "status", "acknowledged_at", "acknowledged_by")
    list_filter = (OpenFilter, "reason")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "acknowledged_by")
    fields = (
        "patient",
        "measure",
        "reason",
        "raised_at",
        "acknowledged_at",
        "acknowledged_by",
        "acknowledgement_note",
    )
    readonly_fields = fields
    actions = ("acknowledge",)

    @admin.action(description="Acknowledge the selected alerts (I have taken them on)", permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[MeasureAlert]) -> None:
        done = 0
        for alert in queryset.filter(acknowledged_at__isnull=True):
            try:
                measure_alert_acknowledge(alert_id=alert.pk, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"Alert {alert.pk}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{done} alert(s) acknowledged.", messages.SUCCESS)
