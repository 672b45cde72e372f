"""Endpoints for patients, screenings, protocols, courses (propose, book, cancel, maintenance),
reschedule requests and a patient's own reminder preferences."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from api.courses import serializers as s
from audit.hooks import AuditedViewMixin
from courses.models import Course
from courses.selectors import protocols_active
from ketaminecare.access.fields import SCREENING, hidden_fields
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import BoundedDateFilter, IdFilter
from ketaminecare.errors import NotFound
from patients.models import Patient, Screening
from patients.selectors import patient_id_of, patients_visible_to, screenings_visible_to
from patients.services import patient_create, patient_preferences_update, patient_update, screening_record
from sessions.models import RescheduleRequest
from sessions.scheduling import Preferences
from sessions.selectors import courses_visible_to, reschedule_requests_visible_to
from sessions.services.booking import (
    SessionRequest,
    course_book_confirmed,
    course_plan_and_book,
    course_propose,
    maintenance_series_book,
)
from sessions.services.lifecycle import course_cancel
from sessions.services.requests import reschedule_request_handle


def _input(request: Request, serializer_class: type[BaseSerializer], **context: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _preferences(data: dict[str, Any] | None) -> Preferences:
    data = data or {}
    return Preferences(
        weekdays=frozenset(int(d) for d in data["weekdays"]) if data.get("weekdays") else None,
        earliest=data.get("earliest"),
        latest=data.get("latest"),
        chair_id=data["chair"].pk if data.get("chair") else None,
        clinician_id=data["clinician"].pk if data.get("clinician") else None,
        session_count=data.get("session_count"),
    )


# ---------------------------------------------------------------------------------------------
# Patients


class PatientFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", help_text="Part of a name, the phone or the email.")
    date_of_birth = BoundedDateFilter()

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
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
            raise NotFound("Your login has no patient record.", rule="exists")
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
        data = _input(request, s.PreferencesSerializer)
        patient = patient_preferences_update(patient_id=patient_id, **data)
        self.audit_touch(patient)
        return Response(s.PreferencesSerializer(patient).data)


# ---------------------------------------------------------------------------------------------
# Screenings and protocols


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


# ---------------------------------------------------------------------------------------------
# Courses


class CourseFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    protocol = IdFilter(field_name="protocol_id")
    status = filters.MultipleChoiceFilter(choices=Course.Status.choices)

    class Meta:
        model = Course
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Courses with their progress (a patient: their own)"),
    retrieve=extend_schema(summary="A course with its sessions and windows"),
)
class CourseViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.CourseSerializer
    filterset_class = CourseFilter
    policy_resource = "courses"

    def get_queryset(self) -> Any:
        return courses_visible_to(self.request.user)

    @extend_schema(
        summary="Preview a course: where each session would go (writes nothing)",
        request=s.ProposalInputSerializer,
        responses={200: s.ProposalSerializer, **error_responses(400, 403, 409)},
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def propose(self, request: Request) -> Response:
        data = _input(request, s.ProposalInputSerializer)
        self.audit_touch(data["patient"])
        proposal = course_propose(
            patient=data["patient"],
            protocol=data["protocol"],
            first_date=data["first_date"],
            preferences=_preferences(data.get("preferences")),
        )
        return Response(s.ProposalSerializer(proposal).data)

    @extend_schema(
        summary="Book a course: the proposal's sessions, or plan from a first date",
        request=s.CourseBookInputSerializer,
        responses={201: s.CourseSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        data = _input(request, s.CourseBookInputSerializer)
        preferences = _preferences(data.get("preferences"))
        if "sessions" in data:
            course = course_book_confirmed(
                patient=data["patient"],
                protocol=data["protocol"],
                sessions=[SessionRequest(r["starts_at"], r["chair"].pk, r["clinician"].pk) for r in data["sessions"]],
                preferences=preferences,
                actor=request.user,
            )
        else:
            course = course_plan_and_book(
                patient=data["patient"],
                protocol=data["protocol"],
                first_date=data["first_date"],
                preferences=preferences,
                actor=request.user,
            )
        self.audit_touch(course)
        body = s.CourseSerializer(self.get_queryset().get(pk=course.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a course and its sessions still to come",
        request=s.CourseCancelInputSerializer,
        responses={200: s.CourseSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request: Request, pk: str) -> Response:
        course = self.get_object()
        data = _input(request, s.CourseCancelInputSerializer)
        course_cancel(course_id=course.pk, reason=data["reason"])
        return Response(s.CourseSerializer(self.get_queryset().get(pk=course.pk)).data)

    @extend_schema(
        summary="Book a maintenance series (one row per session, on the clinic's wall clock)",
        request=s.MaintenanceInputSerializer,
        responses={201: s.MaintenanceSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def maintenance(self, request: Request, pk: str) -> Response:
        course = self.get_object()
        data = _input(request, s.MaintenanceInputSerializer)
        booked = maintenance_series_book(
            course_id=course.pk,
            first_starts_at=data["first_starts_at"],
            chair_id=data["chair"].pk,
            clinician_id=data["clinician"].pk,
            interval_days=data.get("interval_days"),
            rule=data.get("rule"),
            count=data.get("count"),
            until=data.get("until"),
        )
        return Response(s.MaintenanceSerializer({"sessions": booked}).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Reschedule requests


class RescheduleRequestFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=RescheduleRequest.Status.choices)
    patient = IdFilter(field_name="patient_id")
    session = IdFilter(field_name="session_id")

    class Meta:
        model = RescheduleRequest
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Patients' requests to move a session (a patient: their own)"),
    retrieve=extend_schema(summary="A reschedule request"),
)
class RescheduleRequestViewSet(
    AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = (ActionRoles,)
    serializer_class = s.RescheduleRequestSerializer
    filterset_class = RescheduleRequestFilter
    policy_resource = "reschedule_requests"

    def get_queryset(self) -> Any:
        return reschedule_requests_visible_to(self.request.user)

    @extend_schema(
        summary="Close a request: handled or declined",
        request=s.RescheduleRequestHandleInputSerializer,
        responses={200: s.RescheduleRequestSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def handle(self, request: Request, pk: str) -> Response:
        instance = self.get_object()
        data = _input(request, s.RescheduleRequestHandleInputSerializer)
        handled = reschedule_request_handle(request_id=instance.pk, outcome=data["outcome"], actor=request.user)
        return Response(s.RescheduleRequestSerializer(handled).data)
