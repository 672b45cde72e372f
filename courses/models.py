"""The treatment protocols, and the courses that follow them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from patients.models import Patient, Screening


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
    # Set when cancellations (or holds, or no-shows) leave fewer live induction sessions than the
    # protocol's minimum; cleared when a make-up brings the count back. The front desk lists them.
    induction_incomplete_at = models.DateTimeField(null=True, blank=True)

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
