"""Calendar subscriptions: the secret iCalendar feed URLs of staff and patients."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clinic.models import StaffMember
from patients.models import Patient


class CalendarFeed(models.Model):
    """A secret iCalendar subscription URL for one staff member or one patient.

    Only a hash of the token is stored: the URL is shown once when the feed is made or rotated.
    A revoked feed answers 404.
    """

    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "courses_calendarfeed"
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
