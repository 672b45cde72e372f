"""Serializers of treatment sessions and the inputs of their actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.sessions.serializers.common import (
    MAX_TEXT,
    PatientContactSerializer,
    active_chairs,
    active_clinicians,
)
from ketaminecare.access.fields import SESSION, hidden_fields
from ketaminecare.api.serializers import AwareDateTimeField, StrictSerializer
from sessions.models import IntegrationWindow, TreatmentSession


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
    confirmed = serializers.SerializerMethodField(help_text="Whether the patient confirmed they will come.")

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
            "confirmed",
            "confirmed_at",
            "checked_in_at",
            "completed_at",
            "cancelled_at",
            "revision",
            "make_up_for",
            "window",
        ]
        read_only_fields = fields

    def get_confirmed(self, session: TreatmentSession) -> bool:
        return session.confirmed_at is not None

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


class SessionMakeUpInputSerializer(StrictSerializer):
    starts_at = AwareDateTimeField()
    chair = serializers.PrimaryKeyRelatedField(
        queryset=active_chairs(), required=False, help_text="The missed session's chair unless given."
    )
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=active_clinicians(), required=False, help_text="The missed session's clinician unless given."
    )


class CourseWarningSerializer(serializers.Serializer):
    """A course left with fewer live induction sessions than its protocol's minimum."""

    rule = serializers.CharField()
    message = serializers.CharField()
    course = serializers.IntegerField()
    live = serializers.IntegerField(help_text="Induction sessions scheduled, checked in or completed.")
    minimum = serializers.IntegerField(help_text="The protocol's minimum of induction sessions.")


class SessionCancelSerializer(SessionSerializer):
    """The cancelled session, and the warning when its course fell below its induction minimum."""

    course_warning = CourseWarningSerializer(allow_null=True, read_only=True)

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "course_warning"]
        read_only_fields = fields


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
        child=serializers.IntegerField(),
        help_text="Integration appointments the moved window no longer holds, cancelled: the therapist or the "
        "patient was not free at the same time in the moved window.",
    )
    moved_appointments = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Integration appointments the moved window no longer held, moved with the session by its offset.",
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
