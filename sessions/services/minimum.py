"""A course whose live induction sessions fall below its protocol's minimum: marked, and unmarked.

Live means scheduled, checked in or completed (``sessions.selectors.induction_shortfall``): a
cancelled, held or no-show session gave the patient no infusion and will give none. The mark
(``Course.induction_incomplete_at``) is what the front desk's Today page lists and what the
course's answer shows; a make-up that brings the count back clears it.
"""

from __future__ import annotations

import datetime as dt

from courses.models import Course
from sessions.selectors import InductionShortfall, induction_shortfall


def course_minimum_mark(course: Course, *, now: dt.datetime) -> InductionShortfall | None:
    """Mark or unmark ``course`` (locked by the caller) by its live induction count; the shortfall, if any.

    A course that is over (completed, cancelled) keeps the mark it had: nothing more is booked on it.
    """
    if course.status not in Course.ACTIVE_STATUSES:
        return None
    shortfall = induction_shortfall(course)
    if shortfall is not None and course.induction_incomplete_at is None:
        course.induction_incomplete_at = now
        course.save(update_fields=["induction_incomplete_at"])
    elif shortfall is None and course.induction_incomplete_at is not None:
        course.induction_incomplete_at = None
        course.save(update_fields=["induction_incomplete_at"])
    return shortfall
