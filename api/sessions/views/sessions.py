"""Endpoints of treatment sessions and their actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.courses.serializers import RescheduleRequestSerializer
from api.inputs import validated_input
from api.sessions import filters
from api.sessions import serializers as s
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from sessions.selectors import course_shortfall, sessions_visible_to
from sessions.services.common import OVERRIDE_PERMISSION
from sessions.services.lifecycle import (
    session_cancel,
    session_check_in,
    session_complete,
    session_hold,
    session_no_show,
    session_ride_home_confirm,
)
from sessions.services.makeup import session_make_up
from sessions.services.requests import reschedule_request_create
from sessions.services.reschedule import session_reschedule


@extend_schema_view(
    list=extend_schema(summary="Treatment sessions (a patient: their own)"),
    retrieve=extend_schema(summary="A treatment session"),
)
class SessionViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions and what happens to them. Therapists have no access: infusions are not theirs."""

    permission_classes = (ActionRoles,)
    filterset_class = filters.SessionFilter
    policy_resource = "sessions"

    def get_queryset(self) -> Any:
        return sessions_visible_to(self.request.user)

    def get_serializer_class(self) -> Any:
        return s.session_serializer_for(self.request.user)

    def _answer(self, session_id: int) -> Response:
        session = self.get_queryset().get(pk=session_id)
        return Response(self.get_serializer(session).data)

    @extend_schema(
        summary="Move a session (its integration window follows)",
        request=s.SessionRescheduleInputSerializer,
        responses={200: s.SessionRescheduleSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        forbidden = () if request.user.has_perm(OVERRIDE_PERMISSION) else ("override_reason",)
        data = validated_input(request, s.SessionRescheduleInputSerializer, forbidden_fields=forbidden)
        result = session_reschedule(
            session_id=session.pk,
            starts_at=data["starts_at"],
            chair_id=data["chair"].pk if data.get("chair") else None,
            clinician_id=data["clinician"].pk if data.get("clinician") else None,
            override_reason=data.get("override_reason"),
            actor=request.user,
        )
        body = {
            "session": self.get_queryset().get(pk=session.pk),
            "overrides": result.overrides,
            "cancelled_appointments": [a.pk for a in result.cancelled_appointments],
            "moved_appointments": [a.pk for a in result.moved_appointments],
        }
        return Response(s.SessionRescheduleSerializer(body, context={"request": request}).data)

    @extend_schema(
        summary="Cancel a session (the answer warns when its course falls below the induction minimum)",
        request=s.ReasonInputSerializer,
        responses={200: s.SessionCancelSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.ReasonInputSerializer)
        session_cancel(session_id=session.pk, reason=data["reason"], actor=request.user)
        body = dict(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)
        shortfall = course_shortfall(session.course_id)
        body["course_warning"] = shortfall.as_dict() if shortfall else None
        return Response(body)

    @extend_schema(
        summary="Book a make-up session for a held or no-show one (the missed one stays as it was)",
        request=s.SessionMakeUpInputSerializer,
        responses={201: s.SessionSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="make-up")
    def make_up(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.SessionMakeUpInputSerializer)
        made_up = session_make_up(
            session_id=session.pk,
            starts_at=data["starts_at"],
            chair_id=data["chair"].pk if data.get("chair") else None,
            clinician_id=data["clinician"].pk if data.get("clinician") else None,
            actor=request.user,
        )
        self.audit_touch(made_up)
        body = self.get_serializer(self.get_queryset().get(pk=made_up.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Check the patient in (on the session's day)", request=s.CheckInInputSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.CheckInInputSerializer)
        session_check_in(session_id=session.pk, ride_home_confirmed=data["ride_home_confirmed"])
        return self._answer(session.pk)

    @extend_schema(summary="Complete a session: dose and notes (clinicians)", request=s.CompleteInputSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.CompleteInputSerializer)
        session_complete(session_id=session.pk, dose_mg=data["dose_mg"], clinical_notes=data["clinical_notes"])
        return self._answer(session.pk)

    @extend_schema(summary="Mark a no-show (after the start)", request=s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        validated_input(request, s.EmptyInputSerializer)
        session_no_show(session_id=session.pk, actor=request.user)
        return self._answer(session.pk)

    @extend_schema(
        summary="Hold a session: not dosed, with the reason (clinicians)", request=s.RequiredReasonInputSerializer
    )
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.RequiredReasonInputSerializer)
        session_hold(session_id=session.pk, reason=data["reason"], actor=request.user)
        return self._answer(session.pk)

    @extend_schema(summary="Confirm (or withdraw) the ride home", request=s.RideHomeInputSerializer)
    @action(detail=True, methods=["post"], url_path="ride-home")
    def ride_home(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.RideHomeInputSerializer)
        session_ride_home_confirm(session_id=session.pk, confirmed=data["confirmed"])
        return self._answer(session.pk)

    @extend_schema(
        summary="Ask the front desk to move this session (patients)",
        request=s.RescheduleRequestInputSerializer,
        responses={201: RescheduleRequestSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="request-reschedule")
    def request_reschedule(self, request: Request, **_: Any) -> Response:
        session = self.get_object()
        data = validated_input(request, s.RescheduleRequestInputSerializer)
        created = reschedule_request_create(
            patient_id=session.patient_id, session_id=session.pk, message=data["message"]
        )
        return Response(RescheduleRequestSerializer(created).data, status=status.HTTP_201_CREATED)
