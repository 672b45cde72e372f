"""Serializers that describe the calendar and the feeds in the schema, and read the feed requests.

The calendar itself is read by ``calendars.reader``, rendered as plain dicts by ``calendars.json``
and serialised with orjson: the classes below only state its shape for the OpenAPI schema (and the
tests check the answers against it).
"""

from __future__ import annotations

from rest_framework import serializers

from calendars.events import EVENT_TYPES, MAX_ID
from ketaminecare.api.serializers import StrictSerializer


class CalendarPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="A display name: a chair's name, a staff member's or a patient's.")


class CalendarEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    id = serializers.IntegerField(help_text="The object's id (unique within its type).")
    start = serializers.DateTimeField(help_text="ISO 8601 with the clinic's UTC offset at that instant.")
    end = serializers.DateTimeField(help_text="ISO 8601 with the clinic's UTC offset at that instant.")
    all_day = serializers.BooleanField(help_text="Closures: local midnight to local midnight.")
    title = serializers.CharField(
        help_text="A neutral title that names no drug or diagnosis; staff also see the patient's initials."
    )
    status = serializers.CharField(
        help_text="Sessions and appointments: their status; windows: unbooked, booked or cancelled; closures: closed."
    )
    revision = serializers.IntegerField(help_text="Grows every time the object moves or is cancelled.")
    chair = CalendarPersonSerializer(allow_null=True, help_text="Sessions only.")
    clinician = CalendarPersonSerializer(allow_null=True, help_text="Sessions only.")
    therapist = CalendarPersonSerializer(allow_null=True, help_text="Integration appointments only.")
    patient = CalendarPersonSerializer(allow_null=True, help_text="Null for closures.")
    url = serializers.URLField(allow_null=True, help_text="The object in the API; null for closures, which have none.")
    details = serializers.DictField(
        allow_null=True,
        help_text=(
            "By type. Session, for front desk, clinicians and administrators: course_id, sequence, "
            "ride_home_confirmed, confirmed (the patient confirmed by SMS), and hold_reason for clinicians and "
            "administrators; for the patient: course_id, sequence, ride_home_confirmed, confirmed; "
            "for therapists: null. Integration window: session_id. Integration appointment: window_id, confirmed. "
            "Closure: reason."
        ),
    )


class CalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    time_zone = serializers.CharField(help_text="The clinic's IANA zone, in which every time is given.")
    count = serializers.IntegerField()
    events = CalendarEventSerializer(many=True, help_text="By start time.")


class FeedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    staff = serializers.IntegerField(allow_null=True, source="staff_id")
    patient = serializers.IntegerField(allow_null=True, source="patient_id")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class IssuedFeedSerializer(FeedSerializer):
    token = serializers.CharField(help_text="Shown once: only its hash is kept.")
    url = serializers.URLField(help_text="The subscription address (iCalendar); anyone holding it can read the feed.")


class FeedCreateSerializer(StrictSerializer):
    staff = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A staff member's feed; leave both out for your own."
    )
    patient = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="A patient's feed.")

    def validate(self, attrs: dict[str, int]) -> dict[str, int]:
        if "staff" in attrs and "patient" in attrs:
            raise serializers.ValidationError({"patient": "A feed belongs to a staff member or a patient, not both."})
        return attrs
