"""Serializers of the free-time search."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.sessions.serializers.common import (
    active_chairs,
    active_clinicians,
)
from courses.models import TreatmentProtocol
from ketaminecare.api.serializers import BoundedDateField, StrictSerializer
from ketaminecare.rules import Rule
from patients.models import Patient


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
            raise serializers.ValidationError({"end": "The range ends before it starts."}, code=Rule.RANGE_INVERTED)
        if (attrs["end"] - attrs["start"]).days >= self.MAX_DAYS:
            raise serializers.ValidationError(
                {"end": f"The range spans at most {self.MAX_DAYS} days."}, code=Rule.RANGE_TOO_LONG
            )
        return attrs


class FreeBlockSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    chair = serializers.IntegerField(source="chair_id")
    clinician = serializers.IntegerField(source="staff_id")
