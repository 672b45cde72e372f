"""Endpoints of outcome measures (answer, list, a course's progress) and of measure alerts."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.inputs import validated_input
from api.measures import serializers as s
from audit.hooks import AuditedViewMixin
from courses.models import Course
from ketaminecare.api.permissions import ActionRoles, has_role
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import IdFilter
from ketaminecare.errors import InvalidInput, NotFound
from ketaminecare.roles import Role
from ketaminecare.rules import Rule
from measures.models import Instrument, Measure, MeasureAlert
from measures.selectors import (
    course_progress,
    course_visible_to,
    measure_alerts_visible_to,
    measures_visible_to,
    patient_visible_to,
)
from measures.services import measure_alert_acknowledge, measure_record
from patients.models import Patient
from patients.selectors import patient_id_of

MSG_NO_PATIENT = "No such patient, or not one you may see."
MSG_NO_COURSE = "No such course, or not one you may see."
MSG_PATIENT_REQUIRED = "Name the patient who answered."


class MeasureFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    course = IdFilter(field_name="course_id")
    instrument = filters.ChoiceFilter(choices=Instrument.choices)

    class Meta:
        model = Measure
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Outcome measures (PHQ-9, GAD-7, PCL-5); a patient: their own"),
    retrieve=extend_schema(summary="An outcome measure"),
)
class MeasureViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.MeasureSerializer
    filterset_class = MeasureFilter
    policy_resource = "measures"

    def get_queryset(self) -> Any:
        return measures_visible_to(self.request.user)

    def _patient(self, patient_id: int | None) -> Patient:
        """The patient named (a patient login: themselves when none is named); 404 out of scope."""
        if patient_id is None:
            patient_id = patient_id_of(self.request.user)
            if patient_id is None:
                raise InvalidInput(MSG_PATIENT_REQUIRED, field="patient", rule=Rule.REQUIRED)
        patient = patient_visible_to(self.request.user, patient_id)
        if patient is None:
            raise NotFound(MSG_NO_PATIENT, rule=Rule.EXISTS)
        return patient

    def _course(self, course_id: int | None) -> Course | None:
        if course_id is None:
            return None
        course = course_visible_to(self.request.user, course_id)
        if course is None:
            raise NotFound(MSG_NO_COURSE, rule=Rule.EXISTS)
        return course

    @extend_schema(
        summary="Record a measure: the patient's answers, scored; PHQ-9 item 9 above 0 alerts the clinicians",
        request=s.MeasureInputSerializer,
        responses={201: s.MeasureSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # When it was answered is for staff entering a paper form; a patient answers now.
        staff = has_role(request.user, Role.CLINICIAN, Role.ADMINISTRATOR)
        data = validated_input(request, s.MeasureInputSerializer, forbidden_fields=() if staff else ("answered_at",))
        recorded = measure_record(
            patient=self._patient(data.get("patient")),
            course=self._course(data.get("course")),
            instrument=data["instrument"],
            answers=data["answers"],
            entered_by=request.user,
            answered_at=data.get("answered_at"),
        )
        self.audit_touch(recorded.measure)
        return Response(s.MeasureSerializer(recorded.measure).data, status=status.HTTP_201_CREATED)


class CourseProgressView(AuditedViewMixin, APIView):
    """A course's progress on each instrument measured in it (a patient: their own courses)."""

    permission_classes = (ActionRoles,)
    policy_resource = "course_progress"

    @extend_schema(
        summary="A course's progress on each instrument: baseline, latest, change, response and remission",
        responses={200: s.ProgressSerializer(many=True), **error_responses(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        course = course_visible_to(request.user, pk)
        if course is None:
            raise NotFound(MSG_NO_COURSE, rule=Rule.EXISTS)
        progress = course_progress(course)
        self.audit_touch(*(p.latest for p in progress), patient_ids=[course.patient_id])
        return Response(s.ProgressSerializer(progress, many=True).data)


class MeasureAlertFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=MeasureAlert.Status.choices, method="filter_status")

    class Meta:
        model = MeasureAlert
        fields: list[str] = []

    def filter_status(self, queryset: Any, _name: str, value: str) -> Any:
        return queryset.filter(acknowledged_at__isnull=value == MeasureAlert.Status.OPEN)


@extend_schema_view(
    list=extend_schema(summary="Alerts raised by patients' answers (open ones: status=open)"),
    retrieve=extend_schema(summary="A measure alert"),
)
class MeasureAlertViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.MeasureAlertSerializer
    filterset_class = MeasureAlertFilter
    policy_resource = "measure_alerts"

    def get_queryset(self) -> Any:
        return measure_alerts_visible_to(self.request.user)

    @extend_schema(
        summary="Acknowledge an alert: a clinician has taken it on (its unsent messages are cancelled)",
        request=s.AcknowledgeInputSerializer,
        responses={200: s.MeasureAlertSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def acknowledge(self, request: Request, **_: Any) -> Response:
        alert = self.get_object()
        data = validated_input(request, s.AcknowledgeInputSerializer)
        acknowledged = measure_alert_acknowledge(alert_id=alert.pk, actor=request.user, note=data.get("note", ""))
        return Response(s.MeasureAlertSerializer(acknowledged).data)
