"""Serializers of the calendar's objects: chairs, staff time, sessions, windows, appointments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.models import Chair, StaffMember, TimeOff, WorkingHours
from courses.models import TreatmentProtocol
from ketaminecare.access.fields import SESSION, hidden_fields
from ketaminecare.api.serializers import AwareDateTimeField, BoundedDateField, StrictModelSerializer, StrictSerializer
from ketaminecare.roles import Role
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession

MAX_TEXT = 1000


def active_chairs() -> Any:
    return Chair.objects.filter(is_active=True)


def active_clinicians() -> Any:
    return StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN)


def active_therapists() -> Any:
    return StaffMember.objects.filter(is_active=True, role=Role.THERAPIST)


class PatientContactSerializer(serializers.ModelSerializer):
    """What a therapist needs to reach the patient: a name and a phone, nothing clinical."""

    class Meta:
        model = Patient
        fields = ["id", "first_name", "last_name", "phone"]
        read_only_fields = fields


# ---------------------------------------------------------------------------------------------
# Chairs and staff time


class ChairSerializer(StrictModelSerializer):
    class Meta:
        model = Chair
        fields = ["id", "name", "location", "is_active"]


class StaffMemberSerializer(serializers.ModelSerializer):
    clinician_kind = serializers.ChoiceField(
        choices=StaffMember.ClinicianKind.choices, allow_blank=True, read_only=True, help_text="Clinicians only."
    )

    class Meta:
        model = StaffMember
        fields = ["id", "display_name", "role", "clinician_kind", "is_active"]
        read_only_fields = fields


class BookingToMoveSerializer(serializers.Serializer):
    """A booking whose clinician or therapist no longer works or is off at its time."""

    type = serializers.ChoiceField(choices=["session", "appointment"], read_only=True)
    id = serializers.IntegerField(read_only=True)
    staff = serializers.IntegerField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)


class StaffTimeSerializer(StrictModelSerializer):
    """Working hours and time off: the checks live in sessions.services.staff_time, which the
    views call; a change that leaves bookings outside the person's time needs ``accept_conflicts``."""

    accept_conflicts = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Make the change even though bookings of this person fall outside their time "
        "afterwards (they are listed in bookings_to_move); without it such a change answers 409.",
    )
    bookings_to_move = serializers.SerializerMethodField(
        help_text="On the answer to a change: the bookings it left outside the person's time, to move. Empty on reads."
    )

    @extend_schema_field(BookingToMoveSerializer(many=True))
    def get_bookings_to_move(self, obj: Any) -> list[dict[str, Any]]:
        return list(self.context.get("bookings_to_move", []))


class WorkingHoursSerializer(StaffTimeSerializer):
    staff = serializers.PrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(role__in=[Role.CLINICIAN, Role.THERAPIST]),
        help_text="A clinician or a therapist.",
    )

    class Meta:
        model = WorkingHours
        fields = ["id", "staff", "weekday", "starts", "ends", "accept_conflicts", "bookings_to_move"]


class TimeOffSerializer(StaffTimeSerializer):
    staff = serializers.PrimaryKeyRelatedField(queryset=StaffMember.objects.all())

    class Meta:
        model = TimeOff
        fields = ["id", "staff", "starts_at", "ends_at", "reason", "accept_conflicts", "bookings_to_move"]


class AcceptConflictsQuerySerializer(serializers.Serializer):
    accept_conflicts = serializers.BooleanField(required=False, default=False)


# ---------------------------------------------------------------------------------------------
# Sessions


class WindowBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntegrationWindow
        fields = ["id", "opens_at", "closes_at", "cancelled_at"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    """A session as the front desk and the patient see it: time, place, status; nothing clinical."""

    patient = PatientContactSerializer(read_only=True)
    protocol = serializers.CharField(source="course.protocol.name", read_only=True)
    chair_name = serializers.CharField(source="chair.name", read_only=True)
    clinician_name = serializers.CharField(source="clinician.display_name", read_only=True)
    window = serializers.SerializerMethodField()

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "course",
            "patient",
            "protocol",
            "sequence",
            "phase",
            "chair",
            "chair_name",
            "clinician",
            "clinician_name",
            "starts_at",
            "ends_at",
            "local_date",
            "status",
            "ride_home_confirmed",
            "checked_in_at",
            "completed_at",
            "cancelled_at",
            "revision",
            "window",
        ]
        read_only_fields = fields

    @extend_schema_field(WindowBriefSerializer(allow_null=True))
    def get_window(self, session: TreatmentSession) -> dict[str, Any] | None:
        try:
            window = session.integration_window
        except IntegrationWindow.DoesNotExist:
            return None
        return dict(WindowBriefSerializer(window).data)


class ClinicalSessionSerializer(SessionSerializer):
    """A session as a clinician sees it: with the dose, the notes and the reason for a hold."""

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "dose_mg", "clinical_notes", "hold_reason"]
        read_only_fields = fields


class SessionRescheduleInputSerializer(StrictSerializer):
    starts_at = AwareDateTimeField()
    chair = serializers.PrimaryKeyRelatedField(queryset=active_chairs(), required=False)
    clinician = serializers.PrimaryKeyRelatedField(queryset=active_clinicians(), required=False)
    override_reason = serializers.CharField(
        required=False,
        max_length=MAX_TEXT,
        help_text="Sets a broken course rule aside (clinicians and administrators only), recorded for review.",
    )


class RuleOverrideSerializer(serializers.Serializer):
    rule = serializers.CharField()
    reason = serializers.CharField()


def session_serializer_for(user: Any) -> type[SessionSerializer]:
    """The session as ``user`` may read it: with its private fields only for the roles that see them."""
    return SessionSerializer if hidden_fields(user, SESSION) else ClinicalSessionSerializer


class SessionRescheduleSerializer(serializers.Serializer):
    session = serializers.SerializerMethodField()
    overrides = RuleOverrideSerializer(many=True)
    cancelled_appointments = serializers.ListField(
        child=serializers.IntegerField(), help_text="Integration appointments the moved window no longer holds."
    )

    @extend_schema_field(SessionSerializer)
    def get_session(self, body: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        serializer_class = session_serializer_for(getattr(request, "user", None))
        return dict(serializer_class(body["session"], context=self.context).data)


class EmptyInputSerializer(StrictSerializer):
    """An action that takes no input: any key sent is refused."""


class ReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RequiredReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=MAX_TEXT)


class CheckInInputSerializer(StrictSerializer):
    ride_home_confirmed = serializers.BooleanField(required=False, allow_null=True, default=None)


class CompleteInputSerializer(StrictSerializer):
    dose_mg = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True, default=None
    )
    clinical_notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class RideHomeInputSerializer(StrictSerializer):
    confirmed = serializers.BooleanField(default=True)


class RescheduleRequestInputSerializer(StrictSerializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT, default="")


# ---------------------------------------------------------------------------------------------
# Availability


class AvailabilityQuerySerializer(StrictSerializer):
    MAX_DAYS = 31

    protocol = serializers.PrimaryKeyRelatedField(queryset=TreatmentProtocol.objects.filter(is_active=True))
    start = BoundedDateField(help_text="First local date.")
    end = BoundedDateField(help_text="Last local date (inclusive); at most 31 days after start.")
    chair = serializers.PrimaryKeyRelatedField(queryset=active_chairs(), required=False)
    clinician = serializers.PrimaryKeyRelatedField(queryset=active_clinicians(), required=False)
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), required=False, help_text="Leave out the times this patient is booked."
    )
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The range ends before it starts."}, code="range_inverted")
        if (attrs["end"] - attrs["start"]).days >= self.MAX_DAYS:
            raise serializers.ValidationError(
                {"end": f"The range spans at most {self.MAX_DAYS} days."}, code="range_too_long"
            )
        return attrs


class FreeBlockSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    chair = serializers.IntegerField(source="chair_id")
    clinician = serializers.IntegerField(source="staff_id")


# ---------------------------------------------------------------------------------------------
# Integration windows and appointments


class AppointmentBriefSerializer(serializers.ModelSerializer):
    therapist_name = serializers.CharField(source="therapist.display_name", read_only=True)

    class Meta:
        model = IntegrationAppointment
        fields = ["id", "therapist", "therapist_name", "starts_at", "ends_at", "status"]
        read_only_fields = fields


class WindowSerializer(serializers.ModelSerializer):
    patient = PatientContactSerializer(read_only=True)
    booked = serializers.BooleanField(read_only=True)
    appointment = serializers.SerializerMethodField()

    class Meta:
        model = IntegrationWindow
        fields = [
            "id",
            "session",
            "patient",
            "opens_at",
            "closes_at",
            "booked",
            "appointment",
            "integration_took_place",
            "revision",
        ]
        read_only_fields = fields

    @extend_schema_field(AppointmentBriefSerializer(allow_null=True))
    def get_appointment(self, window: IntegrationWindow) -> dict[str, Any] | None:
        active = getattr(window, "active_appointments", None)
        if active is None:
            active = list(window.appointments.filter(status__in=IntegrationAppointment.OCCUPYING_STATUSES))
        return dict(AppointmentBriefSerializer(active[0]).data) if active else None


class WindowFreeSlotsQuerySerializer(StrictSerializer):
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=active_therapists(), required=False, help_text="Defaults to the caller when they are a therapist."
    )


class FreeSlotSerializer(serializers.Serializer):
    therapist = serializers.IntegerField(source="staff_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class AppointmentSerializer(serializers.ModelSerializer):
    patient = PatientContactSerializer(read_only=True)
    therapist_name = serializers.CharField(source="therapist.display_name", read_only=True)

    class Meta:
        model = IntegrationAppointment
        fields = [
            "id",
            "window",
            "patient",
            "therapist",
            "therapist_name",
            "starts_at",
            "ends_at",
            "status",
            "cancelled_at",
            "cancel_reason",
            "revision",
            "created_at",
        ]
        read_only_fields = fields


class AppointmentBookInputSerializer(StrictSerializer):
    therapist = serializers.PrimaryKeyRelatedField(
        queryset=active_therapists(), required=False, help_text="Required unless the caller is the therapist."
    )
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField(required=False, help_text="Defaults to one appointment's length.")


class AppointmentMoveInputSerializer(AppointmentBookInputSerializer):
    pass


class AppointmentRecordInputSerializer(StrictSerializer):
    attended = serializers.BooleanField()


def therapist_filter_q(staff_id: int) -> Q:
    """Windows whose active appointment is with this therapist."""
    return Q(
        appointments__therapist_id=staff_id,
        appointments__status__in=IntegrationAppointment.OCCUPYING_STATUSES,
    )
