"""Outcome measures (PHQ-9, GAD-7, PCL-5) a patient answered, and the alerts some answers raise.

A measure is a clinical record: written once by ``measure_record`` with its score, never edited
(a wrong one is entered again). Its answers are kept as given, with the score the manual gives
them, so that a later change of a setting (the PCL-5 cut-point) does not rewrite what was shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

import ketaminecare.db  # noqa: F401  (registers answers__array_length, used by the constraint)
from courses.models import Course
from measures.scoring import INSTRUMENTS, SEVERITIES, InstrumentCode
from patients.models import Patient


class Instrument(models.TextChoices):
    PHQ9 = InstrumentCode.PHQ9, "PHQ-9 (depression)"
    GAD7 = InstrumentCode.GAD7, "GAD-7 (anxiety)"
    PCL5 = InstrumentCode.PCL5, "PCL-5 (PTSD checklist)"


class Severity(models.TextChoices):
    MINIMAL = SEVERITIES[0], "Minimal"
    MILD = SEVERITIES[1], "Mild"
    MODERATE = SEVERITIES[2], "Moderate"
    MODERATELY_SEVERE = SEVERITIES[3], "Moderately severe"
    SEVERE = SEVERITIES[4], "Severe"


def _instrument_shape(code: str) -> Q:
    """The answers' count and the total's range of one instrument, for its check constraint."""
    instrument = INSTRUMENTS[code]
    return Q(instrument=code, answers__array_length=instrument.items, total__lte=instrument.max_total)


class Measure(models.Model):
    class Source(models.TextChoices):
        PATIENT = "patient", "Answered by the patient"
        STAFF = "staff", "Entered by staff"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measures")
    # The course it was taken in (the patient's active course when none was named), if any.
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="measures")
    instrument = models.CharField(max_length=10, choices=Instrument.choices)
    # A JSON list of whole numbers (a PostgreSQL array would not run on the embedded SQLite default).
    answers = models.JSONField(help_text="Item 1 first, as answered.")
    total = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=20, choices=Severity.choices, blank=True)
    # PCL-5 only: the DSM-5 cluster sums {"B": .., "C": .., "D": .., "E": ..} and the cut-point's verdict.
    clusters = models.JSONField(null=True, blank=True)
    probable_ptsd = models.BooleanField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "answered_at"]),
            models.Index(fields=["course", "instrument", "answered_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_instrument_shape(InstrumentCode.PHQ9)
                | _instrument_shape(InstrumentCode.GAD7)
                | _instrument_shape(InstrumentCode.PCL5),
                name="measure_answers_fit_instrument",
            ),
            models.CheckConstraint(
                condition=Q(instrument=InstrumentCode.PCL5, severity="", clusters__isnull=False)
                | (~Q(instrument=InstrumentCode.PCL5) & ~Q(severity="") & Q(clusters__isnull=True)),
                name="measure_pcl5_clusters_others_severity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} of patient {self.patient_id} on {self.answered_at:%Y-%m-%d}"


class MeasureAlert(models.Model):
    """An answer that calls for a clinician at once; open until a clinician acknowledges it."""

    class Reason(models.TextChoices):
        SELF_HARM_ITEM = "phq9_item9", "PHQ-9 item 9 answered above 0"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measure_alerts")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="alerts")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["raised_at"], condition=Q(acknowledged_at__isnull=True), name="alert_open")]
        constraints = [
            models.UniqueConstraint(fields=["measure", "reason"], name="alert_one_per_measure_reason"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="alert_acknowledged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        # Shown wherever the alert is named, as in the reminders' list the front desk reads: the
        # number only, never what was answered.
        return f"Clinical alert {self.pk}"

    @property
    def status(self) -> str:
        return self.Status.OPEN if self.acknowledged_at is None else self.Status.ACKNOWLEDGED
