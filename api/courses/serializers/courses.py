"""Serializers of proposals, course bookings, courses and maintenance series."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.measures.serializers import ProgressSerializer
from api.sessions.serializers import CourseWarningSerializer
from clinic.models import Chair, StaffMember, Weekday
from courses.models import Course
from courses.selectors import protocols_active
from ketaminecare.api.serializers import (
    AwareDateTimeField,
    BoundedDateField,
    PreloadedPrimaryKeyRelatedField,
    PreloadingListSerializer,
    StrictSerializer,
    WallTimeField,
)
from ketaminecare.roles import Role
from ketaminecare.rules import Rule
from patients.models import Patient
from sessions.models import TreatmentSession
from sessions.selectors import InductionShortfall

MAX_SESSIONS = 20


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
            raise serializers.ValidationError(
                {"latest": "The latest start is before the earliest."}, code=Rule.INVERTED
            )
        return attrs


class ProposalInputSerializer(StrictSerializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    protocol = serializers.PrimaryKeyRelatedField(queryset=protocols_active())
    first_date = BoundedDateField(help_text="The first day to try, on the clinic's calendar; not in the past.")
    preferences = PreferencesInputSerializer(required=False)


class SessionRequestSerializer(StrictSerializer):
    starts_at = AwareDateTimeField()
    chair = PreloadedPrimaryKeyRelatedField(queryset=Chair.objects.filter(is_active=True))
    clinician = PreloadedPrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN)
    )

    class Meta:
        # A course's chairs and clinicians are read in one query each, not one per session.
        list_serializer_class = PreloadingListSerializer


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
                {"sessions": "Give either the proposal's sessions or a first_date, not both."}, code=Rule.ONE_OF
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
            "confirmed_at",
            "window_opens_at",
            "window_closes_at",
        ]
        read_only_fields = fields


class CourseProgressSerializer(serializers.Serializer):
    """A course's sessions by what became of them, its integration, and its scores against baseline."""

    done = serializers.IntegerField(source="sessions_done", help_text="Sessions completed.")
    held = serializers.IntegerField(source="sessions_held", help_text="Sessions held (not dosed).")
    missed = serializers.IntegerField(source="no_shows", help_text="Sessions the patient did not come to.")
    cancelled = serializers.IntegerField(source="sessions_cancelled")
    scheduled = serializers.IntegerField(source="sessions_scheduled", help_text="Sessions still to come.")
    integration_attended = serializers.IntegerField(help_text="Integration appointments attended.")
    scores = serializers.SerializerMethodField(
        help_text="Each instrument's latest score against the course's baseline: on a single course, for the "
        "roles that read outcome measures (else null; also GET /api/v1/courses/{id}/progress/)."
    )

    @extend_schema_field(ProgressSerializer(many=True, allow_null=True))
    def get_scores(self, course: Course) -> list[dict[str, Any]] | None:
        progress = self.context.get("scores", {}).get(course.pk)
        return None if progress is None else list(ProgressSerializer(progress, many=True).data)


class CourseSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    protocol_name = serializers.CharField(source="protocol.name", read_only=True)
    sessions_done = serializers.IntegerField(read_only=True)
    no_shows = serializers.IntegerField(read_only=True)
    integration_attended = serializers.IntegerField(read_only=True)
    progress = CourseProgressSerializer(source="*", read_only=True)
    induction_incomplete = serializers.SerializerMethodField()
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
            "progress",
            "induction_incomplete_at",
            "induction_incomplete",
            "sessions",
        ]
        read_only_fields = fields

    @extend_schema_field(CourseWarningSerializer(allow_null=True))
    def get_induction_incomplete(self, course: Course) -> dict[str, Any] | None:
        """Counted from the sessions already prefetched: no query of its own."""
        if course.induction_incomplete_at is None or course.status not in Course.ACTIVE_STATUSES:
            return None
        live = sum(
            1
            for session in course.sessions.all()
            if session.phase == TreatmentSession.Phase.INDUCTION
            and session.status in TreatmentSession.OCCUPYING_STATUSES
        )
        shortfall = InductionShortfall(
            course_id=course.pk, live=live, minimum=int(course.protocol.induction_sessions_min)
        )
        return shortfall.as_dict()


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
            raise serializers.ValidationError({"rule": "Give interval_days or rule, not both."}, code=Rule.ONE_OF)
        # A series with neither a count, an until date nor a bound in its rule is refused by the
        # service (series_bounded), as is one of more than 52 sessions.
        if "until" in attrs and attrs["until"] < attrs["first_starts_at"].date():
            raise serializers.ValidationError({"until": "The series ends before it starts."}, code=Rule.RANGE_INVERTED)
        return attrs


class MaintenanceSerializer(serializers.Serializer):
    sessions = CourseSessionSerializer(many=True)
