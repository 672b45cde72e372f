"""Serializers of patients, screenings, protocols, courses, proposals and reschedule requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.models import Chair, StaffMember, Weekday
from courses.models import Course, TreatmentProtocol
from courses.selectors import protocols_active
from ketaminecare.api.serializers import (
    AwareDateTimeField,
    BoundedDateField,
    StrictModelSerializer,
    StrictSerializer,
    WallTimeField,
)
from ketaminecare.roles import Role
from patients.models import Contraindication, Patient, Screening
from sessions.models import RescheduleRequest, TreatmentSession

MAX_SESSIONS = 20
RESCHEDULE_OUTCOMES = [("handled", "Handled"), ("declined", "Declined")]


def _today() -> dt.date:
    return timezone.localdate()


class PatientSerializer(StrictModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "time_zone",
            "remind_by_sms",
            "remind_by_email",
            "sms_opted_out_at",
            "email_opted_out_at",
            "quiet_hours_start",
            "quiet_hours_end",
            "user",
            "created_at",
        ]
        read_only_fields = ["id", "sms_opted_out_at", "email_opted_out_at", "user", "created_at"]

    def validate_date_of_birth(self, value: dt.date) -> dt.date:
        if value > _today() or value.year < 1900:
            raise serializers.ValidationError("A date of birth lies between 1900 and today.", code="out_of_range")
        return value

    def validate_first_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return value.strip()

    validate_last_name = validate_first_name


class PatientCreateSerializer(PatientSerializer):
    """Registration takes the person's details; reminder settings come after, by PATCH."""

    class Meta(PatientSerializer.Meta):
        read_only_fields = [
            *PatientSerializer.Meta.read_only_fields,
            "remind_by_sms",
            "remind_by_email",
            "quiet_hours_start",
            "quiet_hours_end",
        ]


class PreferencesSerializer(StrictSerializer):
    """A patient's own reminder settings. An opt-out is kept as the moment it was made."""

    remind_by_sms = serializers.BooleanField(required=False)
    remind_by_email = serializers.BooleanField(required=False)
    sms_opted_out = serializers.BooleanField(required=False, help_text="Stop all text messages.")
    email_opted_out = serializers.BooleanField(required=False, help_text="Stop all email.")
    sms_opted_out_at = serializers.DateTimeField(read_only=True, allow_null=True)
    email_opted_out_at = serializers.DateTimeField(read_only=True, allow_null=True)
    quiet_hours_start = WallTimeField(required=False, help_text="No reminder from this time, on your clock.")
    quiet_hours_end = WallTimeField(required=False, help_text="… until this time.")
    time_zone = serializers.CharField(required=False, max_length=64, help_text="An IANA zone, e.g. America/Chicago.")

    def to_representation(self, instance: Patient) -> dict[str, Any]:
        body = super().to_representation(instance)
        body["sms_opted_out"] = instance.sms_opted_out_at is not None
        body["email_opted_out"] = instance.email_opted_out_at is not None
        return body


class ScreeningSerializer(StrictModelSerializer):
    """The whole evaluation, as clinicians record and read it."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    contraindications_checked = serializers.ListField(
        child=serializers.ChoiceField(choices=Contraindication.choices), required=False, max_length=20
    )
    contraindications_found = serializers.ListField(
        child=serializers.ChoiceField(choices=Contraindication.choices), required=False, max_length=20
    )

    class Meta:
        model = Screening
        fields = [
            "id",
            "patient",
            "clinician",
            "performed_on",
            "contraindications_checked",
            "contraindications_found",
            "informed_consent_off_label",
            "outcome",
            "valid_until",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "clinician", "created_at"]
        extra_kwargs = {"notes": {"max_length": 5000}, "informed_consent_off_label": {"required": True}}

    def validate_performed_on(self, value: dt.date) -> dt.date:
        if value > _today():
            raise serializers.ValidationError("A screening cannot be recorded ahead of time.", code="in_the_future")
        return value


class ScreeningOutcomeSerializer(serializers.ModelSerializer):
    """What the front desk needs to book: the outcome and how long it holds; nothing clinical."""

    class Meta:
        model = Screening
        fields = ["id", "patient", "performed_on", "outcome", "informed_consent_off_label", "valid_until"]
        read_only_fields = fields


class ProtocolSerializer(serializers.ModelSerializer):
    session_minutes = serializers.IntegerField(read_only=True)
    weekly_cadence = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = TreatmentProtocol
        fields = [
            "id",
            "name",
            "route",
            "weekly_cadence",
            "induction_sessions_min",
            "induction_sessions_max",
            "induction_span_min_days",
            "induction_span_max_days",
            "min_gap_hours",
            "infusion_minutes",
            "monitoring_minutes",
            "session_minutes",
            "window_opens_after_hours",
            "window_closes_after_hours",
            "maintenance_interval_days",
            "preparation_instructions",
        ]
        read_only_fields = fields


# ---------------------------------------------------------------------------------------------
# Proposal and booking


class PreferencesInputSerializer(StrictSerializer):
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=Weekday.choices), required=False, allow_empty=False, max_length=7
    )
    earliest = WallTimeField(required=False, help_text="No start before this wall-clock time.")
    latest = WallTimeField(required=False, help_text="No start after this wall-clock time.")
    chair = serializers.PrimaryKeyRelatedField(queryset=Chair.objects.filter(is_active=True), required=False)
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN), required=False
    )
    session_count = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SESSIONS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("earliest") and attrs.get("latest") and attrs["latest"] < attrs["earliest"]:
            raise serializers.ValidationError({"latest": "The latest start is before the earliest."}, code="inverted")
        return attrs


class ProposalInputSerializer(StrictSerializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    protocol = serializers.PrimaryKeyRelatedField(queryset=protocols_active())
    first_date = BoundedDateField(help_text="The first day to try, on the clinic's calendar; not in the past.")
    preferences = PreferencesInputSerializer(required=False)


class SessionRequestSerializer(StrictSerializer):
    starts_at = AwareDateTimeField()
    chair = serializers.PrimaryKeyRelatedField(queryset=Chair.objects.filter(is_active=True))
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN)
    )


class CourseBookInputSerializer(StrictSerializer):
    """Either the sessions of a proposal (as the preview gave them) or a first date to plan from."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    protocol = serializers.PrimaryKeyRelatedField(queryset=protocols_active())
    sessions = SessionRequestSerializer(  # type: ignore[call-arg]  # ListSerializer takes max_length
        many=True, required=False, allow_empty=False, max_length=MAX_SESSIONS
    )
    first_date = BoundedDateField(required=False, help_text="Plan and book in one step from this day.")
    preferences = PreferencesInputSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("sessions" in attrs) == ("first_date" in attrs):
            raise serializers.ValidationError(
                {"sessions": "Give either the proposal's sessions or a first_date, not both."}, code="one_of"
            )
        return attrs


class ProblemSerializer(serializers.Serializer):
    rule = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    message = serializers.CharField()


class ProposedSessionSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    chair = serializers.IntegerField(source="chair_id")
    clinician = serializers.IntegerField(source="clinician_id")
    window_opens_at = serializers.DateTimeField()
    window_closes_at = serializers.DateTimeField()
    therapist_free_in_window = serializers.BooleanField()


class PlanSerializer(serializers.Serializer):
    first_date = serializers.DateField()
    feasible = serializers.BooleanField()
    sessions = ProposedSessionSerializer(many=True)
    problems = ProblemSerializer(many=True)


class ProposalSerializer(serializers.Serializer):
    patient = serializers.IntegerField(source="patient_id")
    protocol = serializers.IntegerField(source="protocol_id")
    feasible = serializers.BooleanField()
    first_date = serializers.DateField(source="plan.first_date")
    sessions = ProposedSessionSerializer(many=True, source="plan.sessions")
    problems = ProblemSerializer(many=True, source="plan.problems")
    next_feasible_first_date = serializers.SerializerMethodField()
    next_feasible = PlanSerializer(allow_null=True)

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_feasible_first_date(self, proposal: Any) -> str | None:
        plan = proposal.plan if proposal.feasible else proposal.next_feasible
        return plan.first_date.isoformat() if plan else None


class CourseSessionSerializer(serializers.ModelSerializer):
    """A session inside a course: when, where, its window; nothing clinical."""

    window_opens_at = serializers.DateTimeField(source="integration_window.opens_at", read_only=True)
    window_closes_at = serializers.DateTimeField(source="integration_window.closes_at", read_only=True)

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "sequence",
            "phase",
            "status",
            "starts_at",
            "ends_at",
            "chair",
            "clinician",
            "ride_home_confirmed",
            "window_opens_at",
            "window_closes_at",
        ]
        read_only_fields = fields


class CourseSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    protocol_name = serializers.CharField(source="protocol.name", read_only=True)
    sessions_done = serializers.IntegerField(read_only=True)
    no_shows = serializers.IntegerField(read_only=True)
    integration_attended = serializers.IntegerField(read_only=True)
    sessions = CourseSessionSerializer(many=True, read_only=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "patient",
            "patient_name",
            "protocol",
            "protocol_name",
            "status",
            "created_at",
            "cancelled_at",
            "cancel_reason",
            "sessions_done",
            "no_shows",
            "integration_attended",
            "sessions",
        ]
        read_only_fields = fields


class CourseCancelInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)


class MaintenanceInputSerializer(StrictSerializer):
    first_starts_at = AwareDateTimeField(help_text="The first session; its wall-clock time repeats.")
    chair = serializers.PrimaryKeyRelatedField(queryset=Chair.objects.filter(is_active=True))
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN)
    )
    interval_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    rule = serializers.CharField(
        required=False,
        max_length=200,
        help_text="An RRULE body, e.g. FREQ=WEEKLY;INTERVAL=3 (its own COUNT or UNTIL bounds the series).",
    )
    count = serializers.IntegerField(required=False, min_value=1, max_value=52)
    until = BoundedDateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "interval_days" in attrs and "rule" in attrs:
            raise serializers.ValidationError({"rule": "Give interval_days or rule, not both."}, code="one_of")
        # A series with neither a count, an until date nor a bound in its rule is refused by the
        # service (series_bounded), as is one of more than 52 sessions.
        if "until" in attrs and attrs["until"] < attrs["first_starts_at"].date():
            raise serializers.ValidationError({"until": "The series ends before it starts."}, code="range_inverted")
        return attrs


class MaintenanceSerializer(serializers.Serializer):
    sessions = CourseSessionSerializer(many=True)


# ---------------------------------------------------------------------------------------------
# Reschedule requests


class RescheduleRequestSerializer(serializers.ModelSerializer):
    session_starts_at = serializers.DateTimeField(source="session.starts_at", read_only=True)

    class Meta:
        model = RescheduleRequest
        fields = [
            "id",
            "patient",
            "session",
            "session_starts_at",
            "message",
            "status",
            "created_at",
            "handled_by",
            "handled_at",
        ]
        read_only_fields = fields


class RescheduleRequestHandleInputSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(choices=RESCHEDULE_OUTCOMES)
