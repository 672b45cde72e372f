"""Serializers of chairs, staff members and their time (working hours, time off)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.models import Chair, StaffMember, TimeOff, WorkingHours
from ketaminecare.api.serializers import StrictModelSerializer
from ketaminecare.roles import Role


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
    def get_bookings_to_move(self, _obj: Any) -> list[dict[str, Any]]:
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
