"""What happens on the calendar: chairs, staff time, treatment sessions, integration windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from courses.models import Course, Patient
from ketaminecare.db import PostgresExclusionConstraint, TsTzRange
from ketaminecare.roles import Role


def local(instant: dt.datetime) -> dt.datetime:
    """An instant on the clinic's wall clock, for display (stored values stay in UTC)."""
    return timezone.localtime(instant, ZoneInfo(settings.TIME_ZONE))


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Chair(models.Model):
    """The place of an infusion: a chair or a room."""

    name = models.CharField(max_length=60, unique=True)
    location = models.CharField(max_length=120, blank=True, help_text="Shown in reminders.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClinicHours(models.Model):
    """The clinic's opening hours, one block per weekday, on the clinic's wall clock."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, unique=True)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "clinic hours"
        constraints = [models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="clinic_hours_order")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClosureDay(models.Model):
    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"Closed {self.date}: {self.reason}"


class StaffMember(models.Model):
    """A member of staff, with the role the service knows them by (also their Django group)."""

    class ClinicianKind(models.TextChoices):
        PRESCRIBER = "prescriber", "Prescriber"
        NURSE = "nurse", "Nurse"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_member")
    role = models.CharField(max_length=20, choices=[(r.value, r.label) for r in Role if r != Role.PATIENT])
    clinician_kind = models.CharField(max_length=20, choices=ClinicianKind.choices, blank=True)
    display_name = models.CharField(max_length=120)
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role="clinician") | Q(clinician_kind=""),
                name="staff_kind_only_for_clinicians",
            )
        ]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    """A weekly block in which a clinician or therapist works, on the clinic's wall clock."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "starts"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="working_hours_order"),
            models.UniqueConstraint(fields=["staff", "weekday", "starts"], name="working_hours_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="time_off_order")]
        indexes = [models.Index(fields=["staff", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.staff} off {local(self.starts_at):%Y-%m-%d %H:%M} to {local(self.ends_at):%Y-%m-%d %H:%M}"


class TreatmentSession(models.Model):
    class Phase(models.TextChoices):
        INDUCTION = "induction", "Induction"
        MAINTENANCE = "maintenance", "Maintenance"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"
        HELD = "held", "Held (not dosed)"

    # Statuses that take the chair, the clinician and the patient's time. A held session was not
    # dosed and a no-show never came: neither keeps the time (nor an integration window).
    OCCUPYING_STATUSES = (Status.SCHEDULED, Status.CHECKED_IN, Status.COMPLETED)

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    # The course's patient, repeated so that the database can exclude a patient's overlaps.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    sequence = models.PositiveSmallIntegerField()
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.INDUCTION)
    chair = models.ForeignKey(Chair, on_delete=models.PROTECT, related_name="sessions")
    clinician = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="Start plus infusion and monitoring.")
    # The day on the clinic's wall clock, so that "one session a day" is a database rule.
    local_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    hold_reason = models.TextField(blank=True)
    ride_home_confirmed = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    clinical_notes = models.TextField(blank=True)
    # Grows on every change of time or place: calendar feeds send it as SEQUENCE.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["starts_at"]),
            models.Index(fields=["chair", "starts_at"]),
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="session_sequence_positive"),
            models.CheckConstraint(condition=~Q(status="held") | ~Q(hold_reason=""), name="session_hold_has_reason"),
            models.UniqueConstraint(fields=["course", "sequence"], name="session_sequence_unique_in_course"),
            models.UniqueConstraint(
                fields=["course", "local_date"],
                condition=Q(status__in=["scheduled", "checked_in", "completed"]),
                name="session_one_a_day_per_course",
            ),
            PostgresExclusionConstraint(
                name="session_no_chair_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("chair", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["scheduled", "checked_in", "completed"]),
            ),
            PostgresExclusionConstraint(
                name="session_no_clinician_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("clinician", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["scheduled", "checked_in", "completed"]),
            ),
            PostgresExclusionConstraint(
                name="session_no_patient_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["scheduled", "checked_in", "completed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.sequence} of course {self.course_id} at {local(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> dt.timedelta:
        return self.ends_at - self.starts_at


class IntegrationWindow(models.Model):
    """The time after a session in which a therapist should see the patient.

    Its bounds are elapsed time from the session's end (24 h and 48 h by default), so they move
    when the session moves. A cancelled, held or no-show session cancels its window.
    """

    session = models.OneToOneField(TreatmentSession, on_delete=models.CASCADE, related_name="integration_window")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="integration_windows")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The window's life, driven by the periodic sweep: each moment recorded once.
    opened_at = models.DateTimeField(null=True, blank=True)
    closing_alert_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    integration_took_place = models.BooleanField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["opens_at", "id"]
        indexes = [
            models.Index(fields=["opens_at"]),
            models.Index(fields=["closes_at"]),
            models.Index(fields=["patient", "opens_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="window_closes_after_opening"),
        ]

    def __str__(self) -> str:
        return f"Integration window {local(self.opens_at):%Y-%m-%d %H:%M}-{local(self.closes_at):%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.cancelled_at is None


class IntegrationAppointment(models.Model):
    """A therapist's appointment with the patient inside an integration window."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ATTENDED = "attended", "Attended"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    OCCUPYING_STATUSES = (Status.BOOKED, Status.ATTENDED)

    window = models.ForeignKey(IntegrationWindow, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="integration_appointments")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="integration_appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    revision = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["therapist", "starts_at"]),
            models.Index(fields=["starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"),
            models.UniqueConstraint(
                fields=["window"],
                condition=Q(status__in=["booked", "attended"]),
                name="appointment_one_active_per_window",
            ),
            PostgresExclusionConstraint(
                name="appointment_no_therapist_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("therapist", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["booked", "attended"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Integration with {self.therapist} at {local(self.starts_at):%Y-%m-%d %H:%M}"


class RuleOverride(models.Model):
    """A course rule set aside for one session, by whom and why (kept for review)."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="overrides")
    rule = models.CharField(max_length=60)
    reason = models.TextField()
    authorised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("override_course_rules", "May set aside a course rule with a reason")]

    def __str__(self) -> str:
        return f"{self.rule} overridden by {self.authorised_by} for session {self.session_id}"


# Reminders live in their own module; importing them here registers them with this app.
from sessions.reminder_models import Channel, Reminder, ReminderKind, ReminderRule  # noqa: E402, F401
