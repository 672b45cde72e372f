"""Serializers of patients, their reminder preferences, screenings and protocols."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from courses.models import TreatmentProtocol
from ketaminecare.api.serializers import (
    StrictModelSerializer,
    StrictSerializer,
    WallTimeField,
)
from ketaminecare.rules import Rule
from patients.models import Contraindication, Patient, Screening


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
            raise serializers.ValidationError("A date of birth lies between 1900 and today.", code=Rule.OUT_OF_RANGE)
        return value

    def validate_first_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.", code=Rule.BLANK)
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
            raise serializers.ValidationError("A screening cannot be recorded ahead of time.", code=Rule.IN_THE_FUTURE)
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
