"""Patients, their screening, the treatment protocols, and the courses that follow them."""

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


class TreatmentProtocol(models.Model):
    """How a course is given. Every clinical number is a field here, never a constant in code."""

    class Route(models.TextChoices):
        IV_KETAMINE = "iv_ketamine", "IV ketamine"
        ESKETAMINE_NASAL = "esketamine_nasal", "Esketamine nasal spray"
        IM_KETAMINE = "im_ketamine", "IM ketamine"

    name = models.CharField(max_length=120, unique=True)
    route = models.CharField(max_length=30, choices=Route.choices)
    # Sessions per week of induction, week by week: [3, 3] is three a week for two weeks. The
    # number of induction sessions is its sum and must lie within the bounds below.
    weekly_cadence = models.JSONField(default=list)
    induction_sessions_min = models.PositiveSmallIntegerField(default=4)
    induction_sessions_max = models.PositiveSmallIntegerField(default=6)
    induction_span_min_days = models.PositiveSmallIntegerField(default=14)
    induction_span_max_days = models.PositiveSmallIntegerField(default=21)
    min_gap_hours = models.PositiveSmallIntegerField(
        default=40, help_text="Least time from one session's start to the next one's start."
    )
    infusion_minutes = models.PositiveSmallIntegerField(default=40)
    monitoring_minutes = models.PositiveSmallIntegerField(default=60)
    window_opens_after_hours = models.PositiveSmallIntegerField(default=24)
    window_closes_after_hours = models.PositiveSmallIntegerField(default=48)
    maintenance_interval_days = models.PositiveSmallIntegerField(default=21)
    # What a patient is told to do before coming. Shown in reminders: no drug, no diagnosis.
    preparation_instructions = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(induction_sessions_min__gte=1) & Q(induction_sessions_max__gte=F("induction_sessions_min")),
                name="protocol_session_bounds",
            ),
            models.CheckConstraint(
                condition=Q(induction_span_max_days__gte=F("induction_span_min_days")),
                name="protocol_span_bounds",
            ),
            models.CheckConstraint(
                condition=Q(window_closes_after_hours__gt=F("window_opens_after_hours")),
                name="protocol_window_closes_after_opening",
            ),
            models.CheckConstraint(condition=Q(infusion_minutes__gt=0), name="protocol_infusion_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def session_minutes(self) -> int:
        """The block a chair and a clinician are taken for: infusion plus monitoring."""
        return int(self.infusion_minutes) + int(self.monitoring_minutes)

    @property
    def induction_session_count(self) -> int:
        return sum(int(n) for n in self.weekly_cadence)

    def clean(self) -> None:
        cadence = self.weekly_cadence
        if not isinstance(cadence, list) or not cadence or not all(isinstance(n, int) and 1 <= n <= 7 for n in cadence):
            raise ValidationError({"weekly_cadence": "A list of sessions per week, each 1 to 7."})
        count = sum(cadence)
        if not self.induction_sessions_min <= count <= self.induction_sessions_max:
            raise ValidationError(
                {
                    "weekly_cadence": f"The cadence gives {count} sessions; the protocol allows "
                    f"{self.induction_sessions_min} to {self.induction_sessions_max}."
                }
            )


class Course(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        INDUCTION = "induction", "Induction"
        MAINTENANCE = "maintenance", "Maintenance"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.PLANNED, Status.INDUCTION, Status.MAINTENANCE)

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    protocol = models.ForeignKey(TreatmentProtocol, on_delete=models.PROTECT, related_name="courses")
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="courses")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A patient follows one course at a time.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=["planned", "induction", "maintenance"]),
                name="course_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="course_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} for {self.patient} ({self.get_status_display()})"


class RescheduleRequest(models.Model):
    """A patient's request to change a session, for the front desk to handle."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        HANDLED = "handled", "Handled"
        DECLINED = "declined", "Declined"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reschedule_requests")
    session = models.ForeignKey(
        "treatment_sessions.TreatmentSession", on_delete=models.CASCADE, related_name="reschedule_requests"
    )
    message = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open request per session is enough for the front desk to act on.
            models.UniqueConstraint(fields=["session"], condition=Q(status="open"), name="reschedule_one_open"),
        ]

    def __str__(self) -> str:
        return f"Reschedule request for session {self.session_id} ({self.status})"


class CalendarFeed(models.Model):
    """A secret iCalendar subscription URL for one staff member or one patient.

    Only a hash of the token is stored: the URL is shown once when the feed is made or rotated.
    A revoked feed answers 404.
    """

    staff = models.ForeignKey(
        "treatment_sessions.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(staff__isnull=False) & Q(patient__isnull=True))
                | (Q(staff__isnull=True) & Q(patient__isnull=False)),
                name="feed_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = f"staff {self.staff_id}" if self.staff_id else f"patient {self.patient_id}"
        return f"Calendar feed of {owner}"
