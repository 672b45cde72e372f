"""Endpoints of screenings and treatment protocols."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from api.courses import serializers as s
from audit.hooks import AuditedViewMixin
from courses.selectors import protocols_active
from ketaminecare.access.fields import SCREENING, hidden_fields
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.serializers import IdFilter
from patients.models import Screening
from patients.selectors import screenings_visible_to
from patients.services import screening_record


class ScreeningFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    outcome = filters.ChoiceFilter(choices=Screening.Outcome.choices)

    class Meta:
        model = Screening
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Screenings (the front desk sees the outcome only)"),
    retrieve=extend_schema(summary="A screening"),
    create=extend_schema(summary="Record a screening (clinicians)"),
)
class ScreeningViewSet(
    AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = (ActionRoles,)
    filterset_class = ScreeningFilter
    policy_resource = "screenings"

    def get_queryset(self) -> Any:
        return screenings_visible_to(self.request.user)

    def get_serializer_class(self) -> Any:
        if self.action == "create" or not hidden_fields(self.request.user, SCREENING):
            return s.ScreeningSerializer
        return s.ScreeningOutcomeSerializer

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = screening_record(clinician=self.request.user, **serializer.validated_data)
        self.audit_touch(serializer.instance)


@extend_schema_view(list=extend_schema(summary="Treatment protocols"), retrieve=extend_schema(summary="A protocol"))
class ProtocolViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.ProtocolSerializer
    policy_resource = "protocols"

    def get_queryset(self) -> Any:
        return protocols_active()
