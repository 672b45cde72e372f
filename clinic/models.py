"""The clinic itself: chairs, opening hours and closures, staff and their working time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

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
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_chair"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClinicHours(models.Model):
    """The clinic's opening hours, one block per weekday, on the clinic's wall clock."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, unique=True)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_clinichours"
        ordering = ["weekday"]
        verbose_name_plural = "clinic hours"
        constraints = [models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="clinic_hours_order")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClosureDay(models.Model):
    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_closureday"
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
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_staffmember"
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
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_workinghours"
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
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_timeoff"
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="time_off_order")]
        indexes = [models.Index(fields=["staff", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.staff} off {local(self.starts_at):%Y-%m-%d %H:%M} to {local(self.ends_at):%Y-%m-%d %H:%M}"
