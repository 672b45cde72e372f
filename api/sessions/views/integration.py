"""Endpoints of integration windows and appointments."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.inputs import validated_input
from api.sessions import filters
from api.sessions import serializers as s
from api.sessions.views.common import is_therapist_only, staff_of
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.errors import InvalidInput
from ketaminecare.rules import Rule
from sessions.models import IntegrationWindow
from sessions.selectors import (
    appointments_visible_to,
    window_free_slots,
    windows_visible_to,
)
from sessions.services.integration import (
    integration_appointment_cancel,
    integration_appointment_move,
    integration_appointment_record,
    window_appointment_book,
)


@extend_schema_view(
    list=extend_schema(summary="Integration windows, by state, therapist and date (a patient: their own)"),
    retrieve=extend_schema(summary="An integration window"),
)
class WindowViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.WindowSerializer
    filterset_class = filters.WindowFilter
    policy_resource = "windows"

    def get_queryset(self) -> Any:
        return windows_visible_to(self.request.user)

    @extend_schema(
        summary="A therapist's free slots inside the window",
        parameters=[s.WindowFreeSlotsQuerySerializer],
        responses={200: s.FreeSlotSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="free-slots", filterset_class=None, pagination_class=None)
    def free_slots(self, request: Request, **_: Any) -> Response:
        window: IntegrationWindow = self.get_object()
        query = s.WindowFreeSlotsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        therapist = query.validated_data.get("therapist")
        if therapist is None and is_therapist_only(request):
            therapist = staff_of(request)
        slots = window_free_slots(window, therapist_id=therapist.pk if therapist else None, now=timezone.now())
        return Response(s.FreeSlotSerializer(slots, many=True).data)

    @extend_schema(
        summary="Book an integration appointment in the window",
        request=s.AppointmentBookInputSerializer,
        responses={201: s.AppointmentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="appointments", filterset_class=None)
    def book(self, request: Request, **_: Any) -> Response:
        window: IntegrationWindow = self.get_object()
        therapist_only = is_therapist_only(request)
        data = validated_input(
            request, s.AppointmentBookInputSerializer, forbidden_fields=("therapist",) if therapist_only else ()
        )
        therapist = staff_of(request) if therapist_only else data.get("therapist")
        if therapist is None:
            raise InvalidInput("Name the therapist.", field="therapist", rule=Rule.REQUIRED)
        appointment = window_appointment_book(
            window_id=window.pk,
            therapist_id=therapist.pk,
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            actor=request.user,
        )
        return Response(s.AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Integration appointments (a therapist or a patient: their own)"),
    retrieve=extend_schema(summary="An integration appointment"),
)
class AppointmentViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.AppointmentSerializer
    filterset_class = filters.AppointmentFilter
    policy_resource = "appointments"

    def get_queryset(self) -> Any:
        return appointments_visible_to(self.request.user)

    def _answer(self, appointment_id: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=appointment_id)).data)

    @extend_schema(summary="Move an appointment inside its window", request=s.AppointmentMoveInputSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, **_: Any) -> Response:
        appointment = self.get_object()
        therapist_only = is_therapist_only(request)
        data = validated_input(
            request, s.AppointmentMoveInputSerializer, forbidden_fields=("therapist",) if therapist_only else ()
        )
        integration_appointment_move(
            appointment_id=appointment.pk,
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            therapist_id=data["therapist"].pk if data.get("therapist") else None,
            actor=request.user,
        )
        return self._answer(appointment.pk)

    @extend_schema(summary="Cancel an appointment", request=s.ReasonInputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, **_: Any) -> Response:
        appointment = self.get_object()
        data = validated_input(request, s.ReasonInputSerializer)
        integration_appointment_cancel(appointment_id=appointment.pk, reason=data["reason"], actor=request.user)
        return self._answer(appointment.pk)

    @extend_schema(summary="Record whether the patient attended", request=s.AppointmentRecordInputSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, **_: Any) -> Response:
        appointment = self.get_object()
        data = validated_input(request, s.AppointmentRecordInputSerializer)
        integration_appointment_record(appointment_id=appointment.pk, attended=data["attended"])
        return self._answer(appointment.pk)
