"""What the serializers of sessions, windows and appointments share: the active people and chairs
an input may name, and a patient as a therapist reaches them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from clinic.models import Chair, StaffMember
from ketaminecare.roles import Role
from patients.models import Patient

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
