"""Serializers of outcome measures, a course's progress on them, and measure alerts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ketaminecare.api.serializers import AwareDateTimeField, StrictSerializer
from measures.models import Instrument, Measure, MeasureAlert, Severity
from measures.scoring import INSTRUMENTS

MAX_ANSWER = max(i.max_answer for i in INSTRUMENTS.values())
MIN_ITEMS = min(i.items for i in INSTRUMENTS.values())
MAX_ITEMS = max(i.items for i in INSTRUMENTS.values())


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": MAX_ANSWER},
        "minItems": MIN_ITEMS,
        "maxItems": MAX_ITEMS,
        "description": "One answer per item, item 1 first: PHQ-9 9 answers 0-3, GAD-7 7 answers 0-3, "
        "PCL-5 20 answers 0-4. A missing, out-of-range or non-integer answer is refused naming the "
        "item (field answers[3]).",
    }
)
class AnswersField(serializers.Field):
    """The answers as sent: the instrument's scoring checks them whole and names the item at fault."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> list[int]:
        return list(value)


class MeasureInputSerializer(StrictSerializer):
    patient = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="The patient (a patient may leave it out)."
    )
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    answers = AnswersField()
    course = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The course it belongs to; left out: the patient's active course, if any.",
    )
    answered_at = AwareDateTimeField(
        required=False, help_text="Staff entering a paper form: when the patient answered it (default: now)."
    )


class ClustersSerializer(serializers.Serializer):
    B = serializers.IntegerField(help_text="Intrusion (items 1-5).")
    C = serializers.IntegerField(help_text="Avoidance (items 6-7).")
    D = serializers.IntegerField(help_text="Negative alterations in cognition and mood (items 8-14).")
    E = serializers.IntegerField(help_text="Alterations in arousal and reactivity (items 15-20).")


class LoincSerializer(serializers.Serializer):
    panel = serializers.CharField()
    total = serializers.CharField()


class MeasureSerializer(serializers.ModelSerializer):
    answers = AnswersField(read_only=True)
    severity = serializers.SerializerMethodField()
    clusters = serializers.SerializerMethodField()
    alert = serializers.SerializerMethodField()
    loinc = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = [
            "id",
            "patient",
            "course",
            "instrument",
            "answers",
            "total",
            "severity",
            "clusters",
            "probable_ptsd",
            "alert",
            "source",
            "entered_by",
            "answered_at",
            "created_at",
            "loinc",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Severity.choices, allow_null=True))
    def get_severity(self, obj: Measure) -> str | None:
        return obj.severity or None

    @extend_schema_field(ClustersSerializer(allow_null=True))
    def get_clusters(self, obj: Measure) -> dict[str, int] | None:
        return obj.clusters

    def get_alert(self, obj: Measure) -> bool:
        """Whether the answers raised an alert for the patient's clinicians."""
        # Read from the list's prefetch; a measure just written has at most one alert to load.
        return bool(obj.alerts.all())

    @extend_schema_field(LoincSerializer)
    def get_loinc(self, obj: Measure) -> dict[str, str]:
        instrument = INSTRUMENTS[obj.instrument]
        return {"panel": instrument.loinc_panel, "total": instrument.loinc_total}


class ProgressPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    total = serializers.IntegerField()
    answered_at = serializers.DateTimeField()


class ProgressSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="course_id")
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    count = serializers.IntegerField(help_text="How many measures of the instrument the course has.")
    baseline = ProgressPointSerializer(help_text="The course's first measure of the instrument.")
    latest = ProgressPointSerializer()
    change = serializers.IntegerField(source="change.change", help_text="Latest total minus baseline total.")
    percent_change = serializers.FloatField(source="change.percent_change", allow_null=True)
    response = serializers.BooleanField(
        source="change.response", allow_null=True, help_text="PHQ-9: a drop of 50% or more from baseline."
    )
    remission = serializers.BooleanField(source="change.remission", allow_null=True, help_text="PHQ-9: below 5.")
    clinically_meaningful = serializers.BooleanField(
        source="change.clinically_meaningful", allow_null=True, help_text="PCL-5: a drop of 10 points or more."
    )


class MeasureAlertSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=MeasureAlert.Status.choices, read_only=True)

    class Meta:
        model = MeasureAlert
        fields = [
            "id",
            "patient",
            "measure",
            "reason",
            "status",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
        ]
        read_only_fields = fields


class AcknowledgeInputSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
