"""Serializers of patients' reschedule requests."""

from __future__ import annotations

from rest_framework import serializers

from ketaminecare.api.serializers import (
    StrictSerializer,
)
from sessions.models import RescheduleRequest

RESCHEDULE_OUTCOMES = [("handled", "Handled"), ("declined", "Declined")]


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
