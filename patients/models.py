"""Patients: who they are, how to reach them, and their screening before treatment."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

# Files in the system's zone directory that zoneinfo opens but that name no IANA zone: the
# machine's own zone (which differs from server to server), and tzcode's placeholders.
NOT_IANA_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_IANA_ZONES


def validate_time_zone(value: str) -> None:
    """An IANA zone name ("Europe/Berlin"), never a path or the machine's own "localtime"."""
    if value not in _iana_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone name.")


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, for SMS reminders.")
    email = models.EmailField(blank=True)
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    # Channels the patient asked for, and the moment they opted out of one (for example an SMS
    # "STOP"). An opt-out wins over the channel flag and is kept as evidence.
    remind_by_sms = models.BooleanField(default=True)
    remind_by_email = models.BooleanField(default=True)
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    email_opted_out_at = models.DateTimeField(null=True, blank=True)
    # Quiet hours on the patient's own wall clock; reminders due inside them wait.
    quiet_hours_start = models.TimeField(default=dt.time(21, 0))
    quiet_hours_end = models.TimeField(default=dt.time(8, 0))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "courses_patient"
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def channel_allowed(self, channel: str) -> bool:
        if channel == "sms":
            return self.remind_by_sms and self.sms_opted_out_at is None and bool(self.phone)
        if channel == "email":
            return self.remind_by_email and self.email_opted_out_at is None and bool(self.email)
        return False


class Contraindication(models.TextChoices):
    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension", "Uncontrolled hypertension"
    CARDIOVASCULAR_DISEASE = "cardiovascular_disease", "Cardiovascular disease"
    PSYCHOSIS_HISTORY = "psychosis_history", "History of psychosis"
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease", "Aneurysmal vascular disease"
    PREGNANCY = "pregnancy", "Pregnancy"
    ACTIVE_SUBSTANCE_MISUSE = "active_substance_misuse", "Active substance misuse"


class Screening(models.Model):
    """The pre-treatment evaluation a course relies on."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        NEEDS_REVIEW = "needs_review", "Needs review"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="screenings_performed"
    )
    performed_on = models.DateField()
    # Codes from Contraindication: what was checked, and what was found among them.
    contraindications_checked = models.JSONField(default=list, blank=True)
    contraindications_found = models.JSONField(default=list, blank=True)
    informed_consent_off_label = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    valid_until = models.DateField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "courses_screening"
        ordering = ["-performed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("performed_on")),
                name="screening_valid_after_performed",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="eligible") | Q(informed_consent_off_label=True),
                name="screening_eligible_requires_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"Screening of {self.patient} on {self.performed_on} ({self.outcome})"

    def is_current_on(self, day: dt.date) -> bool:
        return (
            self.outcome == self.Outcome.ELIGIBLE
            and self.informed_consent_off_label
            and self.performed_on <= day <= self.valid_until
        )
