"""What happens on the calendar: treatment sessions, integration windows and appointments, and
the patients' requests to move them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q

from clinic.models import Chair, StaffMember, local
from courses.models import Course
from ketaminecare.db import PostgresExclusionConstraint, TsTzRange
from patients.models import Patient


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
    # When the patient confirmed they will come (a reply to a reminder); cleared by a move.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    clinical_notes = models.TextField(blank=True)
    # Grows on every change of time or place: calendar feeds send it as SEQUENCE.
    revision = models.PositiveIntegerField(default=0)
    # A session booked to make up for a held or no-show one of the same course; the missed one
    # stays as it was (the record of what happened).
    make_up_for = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="make_ups")
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
            # A missed session is made up once (a cancelled make-up may be booked again).
            models.UniqueConstraint(
                fields=["make_up_for"],
                condition=Q(status__in=["scheduled", "checked_in", "completed"]),
                name="session_one_make_up",
            ),
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
    # When the patient confirmed they will come (a reply to a reminder); cleared by a move.
    confirmed_at = models.DateTimeField(null=True, blank=True)
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


class RescheduleRequest(models.Model):
    """A patient's request to change a session, for the front desk to handle."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        HANDLED = "handled", "Handled"
        DECLINED = "declined", "Declined"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reschedule_requests")
    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="reschedule_requests")
    message = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "courses_reschedulerequest"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open request per session is enough for the front desk to act on.
            models.UniqueConstraint(fields=["session"], condition=Q(status="open"), name="reschedule_one_open"),
        ]

    def __str__(self) -> str:
        return f"Reschedule request for session {self.session_id} ({self.status})"
