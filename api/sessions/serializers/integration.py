"""Serializers of integration windows and appointments."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.sessions.serializers.common import (
    PatientContactSerializer,
    active_therapists,
)
from ketaminecare.api.serializers import AwareDateTimeField, StrictSerializer
from sessions.models import IntegrationAppointment, IntegrationWindow


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
    confirmed = serializers.SerializerMethodField(help_text="Whether the patient confirmed they will come.")

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
            "confirmed",
            "confirmed_at",
            "revision",
            "created_at",
        ]
        read_only_fields = fields

    def get_confirmed(self, appointment: IntegrationAppointment) -> bool:
        return appointment.confirmed_at is not None


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
