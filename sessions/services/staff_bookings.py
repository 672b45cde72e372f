"""Which bookings a change of staff time leaves behind: those whose person can no longer give them.

A session needs its clinician and an integration appointment its therapist: active, in that
role, working for the whole of it and not off. These functions read the bookings still ahead and
name those that fail; sessions.services.staff_time refuses (or reports) a change by them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clinic.models import StaffMember, TimeOff, WorkingHours
from ketaminecare.roles import Role
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.scheduling import BusyIndex, WeeklyHours, within_weekly_hours
from sessions.selectors import clinic_zone

# Statuses of a booking that still needs its clinician or therapist.
SESSION_STATUSES = (TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.CHECKED_IN)
APPOINTMENT_STATUSES = (IntegrationAppointment.Status.BOOKED,)

ROLE_FOR = {"session": Role.CLINICIAN, "appointment": Role.THERAPIST}


@dataclass(frozen=True)
class BookingToMove:
    """A booking whose clinician or therapist is no longer working or free for it."""

    kind: str  # "session" or "appointment"
    id: int
    staff_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    # Whose booking it is: for the audit trail of whoever reads the list, not in the answer.
    patient_id: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "id": self.id,
            "staff": self.staff_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


def bookings_outside(people: Iterable[StaffMember], *, now: dt.datetime) -> list[BookingToMove]:
    """These people's bookings still ahead that they can no longer give, earliest first.

    Sessions they are the clinician of and appointments they are the therapist of, whatever
    their role now: a booking is outside when its person is inactive, no longer has the role it
    needs, or is not working or is off for the whole of it. Four queries whatever the number of
    people and bookings.
    """
    by_id = {person.pk: person for person in people}
    if not by_id:
        return []
    rows = [
        ("session", pk, staff_id, starts, ends, patient_id)
        for pk, staff_id, starts, ends, patient_id in TreatmentSession.objects.filter(
            clinician_id__in=by_id, status__in=SESSION_STATUSES, ends_at__gt=now
        ).values_list("id", "clinician_id", "starts_at", "ends_at", "patient_id")
    ]
    rows += [
        ("appointment", pk, staff_id, starts, ends, patient_id)
        for pk, staff_id, starts, ends, patient_id in IntegrationAppointment.objects.filter(
            therapist_id__in=by_id, status__in=APPOINTMENT_STATUSES, ends_at__gt=now
        ).values_list("id", "therapist_id", "starts_at", "ends_at", "patient_id")
    ]
    if not rows:
        return []
    rows.sort(key=lambda row: (row[3], row[0], row[1]))
    hours: dict[int, WeeklyHours] = {}
    for owner, weekday, block_start, block_end in WorkingHours.objects.filter(staff_id__in=by_id).values_list(
        "staff_id", "weekday", "starts", "ends"
    ):
        hours.setdefault(owner, {}).setdefault(weekday, []).append((block_start, block_end))
    last_end = max(row[4] for row in rows)
    off = BusyIndex(
        TimeOff.objects.filter(staff_id__in=by_id, starts_at__lt=last_end, ends_at__gt=now).values_list(
            "staff_id", "starts_at", "ends_at"
        )
    )
    zone = clinic_zone()
    found = []
    for kind, pk, staff_id, starts, ends, patient_id in rows:
        person = by_id[staff_id]
        if (
            not person.is_active
            or person.role != ROLE_FOR[kind]
            or not within_weekly_hours(hours.get(staff_id, {}), starts, ends, zone)
            or not off.is_free(staff_id, starts, ends)
        ):
            found.append(BookingToMove(kind, pk, staff_id, starts, ends, patient_id))
    return found


def bookings_outside_availability(staff: StaffMember, *, now: dt.datetime) -> list[BookingToMove]:
    """One person's bookings still ahead that they can no longer give (see ``bookings_outside``)."""
    return bookings_outside([staff], now=now)


def outside_before(people: Iterable[StaffMember], *, now: dt.datetime) -> set[tuple[str, int]]:
    """The bookings of these people already outside their time, before a change (as keys)."""
    return {(b.kind, b.id) for b in bookings_outside(people, now=now)}


def bookings_left_outside(
    people: Iterable[StaffMember], *, before: set[tuple[str, int]], now: dt.datetime
) -> list[BookingToMove]:
    """After a change: the bookings it left outside these people's time, earliest first."""
    return [b for b in bookings_outside(people, now=now) if (b.kind, b.id) not in before]
