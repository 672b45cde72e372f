"""Endpoints of patients and a patient's own reminder preferences."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from api.courses import serializers as s
from api.inputs import validated_input
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.serializers import BoundedDateFilter
from ketaminecare.errors import NotFound
from ketaminecare.rules import Rule
from patients.models import Patient
from patients.selectors import patient_id_of, patients_visible_to
from patients.services import patient_create, patient_preferences_update, patient_update


class PatientFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", help_text="Part of a name, the phone or the email.")
    date_of_birth = BoundedDateFilter()

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_search(self, queryset: Any, _name: str, value: str) -> Any:
        for term in value.split()[:4]:
            queryset = queryset.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(phone__icontains=term)
                | Q(email__icontains=term)
            )
        return queryset


@extend_schema_view(
    list=extend_schema(summary="Patients (search by name, phone, email; a patient: themselves)"),
    retrieve=extend_schema(summary="A patient"),
    create=extend_schema(summary="Register a patient"),
    partial_update=extend_schema(summary="Change a patient's details"),
)
class PatientViewSet(
    AuditedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = (ActionRoles,)
    serializer_class = s.PatientSerializer
    filterset_class = PatientFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    policy_resource = "patients"

    def get_queryset(self) -> Any:
        return patients_visible_to(self.request.user)

    def get_serializer_class(self) -> Any:
        return s.PatientCreateSerializer if self.action == "create" else s.PatientSerializer

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = patient_create(**serializer.validated_data)
        self.audit_touch(serializer.instance)

    def perform_update(self, serializer: BaseSerializer) -> None:
        assert serializer.instance is not None
        serializer.instance = patient_update(patient_id=serializer.instance.pk, **serializer.validated_data)


class PreferencesView(AuditedViewMixin, APIView):
    """A patient's own reminder settings: channels, opt-outs, quiet hours, time zone."""

    permission_classes = (ActionRoles,)
    policy_resource = "preferences"

    def _patient_id(self, request: Request) -> int:
        patient_id = patient_id_of(request.user)
        if patient_id is None:
            raise NotFound("Your login has no patient record.", rule=Rule.EXISTS)
        return patient_id

    @extend_schema(summary="My reminder preferences", responses={200: s.PreferencesSerializer})
    def get(self, request: Request) -> Response:
        patient = Patient.objects.get(pk=self._patient_id(request))
        self.audit_touch(patient)
        return Response(s.PreferencesSerializer(patient).data)

    @extend_schema(
        summary="Change my reminder preferences",
        request=s.PreferencesSerializer,
        responses={200: s.PreferencesSerializer},
    )
    def patch(self, request: Request) -> Response:
        patient_id = self._patient_id(request)
        data = validated_input(request, s.PreferencesSerializer)
        patient = patient_preferences_update(patient_id=patient_id, **data)
        self.audit_touch(patient)
        return Response(s.PreferencesSerializer(patient).data)
