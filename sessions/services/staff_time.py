"""Changing a clinician's or therapist's time (working hours, time off) under their bookings.

A session is booked only while its clinician works and is not off, and an integration
appointment only while its therapist does. A later change to that time must not leave a booking
behind with nobody to give it: each change here runs in one transaction that locks the staff
member, applies the change, and looks again at their bookings from now on. A change that leaves
a booking outside the person's time is refused (409, rule ``staff_has_bookings``, with the
bookings listed) unless the caller accepts it (``accept_conflicts``: someone called in sick and
the time off must be on record), and then it is made and the bookings to move are returned.

Booking services take a shared lock on the staff they book (``common.lock_staff_for_booking``), so a
booking and a change of that person's time cannot both pass their checks against the old state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction

from clinic.models import StaffMember, TimeOff, WorkingHours
from ketaminecare.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from ketaminecare.roles import Role
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.scheduling import BusyIndex, WeeklyHours, within_weekly_hours
from sessions.selectors import clinic_zone
from sessions.services.common import now_or, require_aware

RULE = "staff_has_bookings"
MSG_HAS_BOOKINGS = (
    "This change leaves {count} booking(s) outside the person's working time; move them first, "
    "or send accept_conflicts=true to make the change and move them after."
)
MSG_NO_STAFF = "No such clinician or therapist."  # working hours are theirs only
# Statuses of a booking that still needs its clinician or therapist.
SESSION_STATUSES = (TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.CHECKED_IN)
APPOINTMENT_STATUSES = (IntegrationAppointment.Status.BOOKED,)

ROLE_FOR = {"session": Role.CLINICIAN, "appointment": Role.THERAPIST}
LOCK_ATTEMPTS = 3
MSG_MOVING = "The record kept changing hands while this change waited; nothing was changed. Try again."

T = TypeVar("T")
M = TypeVar("M", TimeOff, WorkingHours)
TIME_OFF_FIELDS = ("staff_id", "starts_at", "ends_at", "reason")
WORKING_HOURS_FIELDS = ("staff_id", "weekday", "starts", "ends")


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


@dataclass(frozen=True)
class StaffTimeChange:
    """What a change made (the row, or None after a removal) and the bookings it left to move."""

    instance: Any
    bookings_to_move: list[BookingToMove]


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


def _staff_change(
    who: Callable[[], set[int]],
    apply: Callable[[], T],
    *,
    accept_conflicts: bool,
    now: dt.datetime,
) -> tuple[T, list[BookingToMove]]:
    """Apply a change of some people's time, refusing it (or reporting, if accepted) when it
    leaves bookings of theirs outside it. Only bookings the change moved outside count: one that
    was already outside before is not this change's doing.

    ``who`` names the people the change touches, as the database has them now (a row's owner
    and, for a move, its new owner). It is asked again once they are locked: a concurrent
    change may have given the row to someone else in between, and then the locks are taken
    again for the people it names now. Once they are held, nobody else can move the row.
    """
    for _ in range(LOCK_ATTEMPTS):
        wanted = who()
        with transaction.atomic():
            people = list(StaffMember.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
            if who() != wanted:
                continue
            before = outside_before(people, now=now)
            result = apply()
            left = bookings_left_outside(people, before=before, now=now)
            if left and not accept_conflicts:
                raise RuleViolation(
                    MSG_HAS_BOOKINGS.format(count=len(left)),
                    rule=RULE,
                    field="staff",
                    details={"bookings": [b.as_dict() for b in left]},
                )
            return result, left
    raise BookingConflict(MSG_MOVING, rule="conflict", field="staff")


def _staff(staff_id: int, *, schedulable: bool) -> StaffMember:
    """The member of staff (a clinician or therapist when ``schedulable``), or a 400."""
    found = StaffMember.objects.filter(pk=staff_id)
    if schedulable:
        found = found.filter(role__in=[Role.CLINICIAN, Role.THERAPIST])
    staff = found.first()
    if staff is None:
        raise InvalidInput(MSG_NO_STAFF if schedulable else "No such member of staff.", field="staff", rule="exists")
    return staff


# ---------------------------------------------------------------------------------------------
# Time off


def _check_time_off(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    require_aware(starts_at, "starts_at")
    require_aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise InvalidInput("Time off ends after it starts.", field="ends_at", rule="ends_after_start")
    if ends_at - starts_at > dt.timedelta(days=366):
        raise InvalidInput("Time off lasts at most a year.", field="ends_at", rule="range_too_long")


def time_off_record(
    *,
    staff_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    accept_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> StaffTimeChange:
    """Record time off for a member of staff (see the module for the bookings it overlaps)."""
    _check_time_off(starts_at, ends_at)
    staff = _staff(staff_id, schedulable=False)

    def apply() -> TimeOff:
        return TimeOff.objects.create(staff=staff, starts_at=starts_at, ends_at=ends_at, reason=reason)

    made, left = _staff_change(lambda: {staff.pk}, apply, accept_conflicts=accept_conflicts, now=now_or(now))
    return StaffTimeChange(made, left)


def _owner(model: type[TimeOff] | type[WorkingHours], pk: int) -> int:
    """Whose row this is, as the database has it now; NotFound when it is gone."""
    staff_id = model.objects.filter(pk=pk).values_list("staff_id", flat=True).first()
    if staff_id is None:
        raise NotFound(f"No such {model._meta.verbose_name}.", field="id", rule="exists")
    return staff_id


def _locked_row(model: type[M], pk: int) -> M:
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No such {model._meta.verbose_name}.", field="id", rule="exists")
    return row


def _row_change(
    model: type[M],
    pk: int,
    changes: dict[str, Any],
    *,
    check: Callable[[M], None],
    accept_conflicts: bool,
    now: dt.datetime,
) -> StaffTimeChange:
    """Change one row of time off or working hours: its owner (and new owner) locked, the row
    locked, ``changes`` set on it, ``check`` run on the result, then saved."""

    def who() -> set[int]:
        owner = _owner(model, pk)
        return {owner, changes.get("staff_id", owner)}

    def apply() -> M:
        row = _locked_row(model, pk)
        for name, value in changes.items():
            setattr(row, name, value)
        check(row)
        row.save()
        return row

    made, left = _staff_change(who, apply, accept_conflicts=accept_conflicts, now=now)
    return StaffTimeChange(made, left)


def time_off_change(
    *,
    time_off_id: int,
    changes: dict[str, Any],
    accept_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> StaffTimeChange:
    """Change a period of time off (``changes``: staff_id, starts_at, ends_at, reason)."""
    _known_fields(changes, TIME_OFF_FIELDS)
    if "staff_id" in changes:
        _staff(changes["staff_id"], schedulable=False)
    return _row_change(
        TimeOff,
        time_off_id,
        changes,
        check=lambda row: _check_time_off(row.starts_at, row.ends_at),
        accept_conflicts=accept_conflicts,
        now=now_or(now),
    )


def _known_fields(changes: dict[str, Any], fields: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise InvalidInput(f"Not a field that can be changed: {unknown[0]}.", field=unknown[0], rule="unknown_field")


# ---------------------------------------------------------------------------------------------
# Working hours


def _check_hours(staff_id: int, weekday: int, starts: dt.time, ends: dt.time, *, exclude_id: int | None) -> None:
    if not 0 <= weekday <= 6:
        raise InvalidInput("A weekday is 0 (Monday) to 6 (Sunday).", field="weekday", rule="weekday")
    if ends <= starts:
        raise InvalidInput("A block ends after it starts.", field="ends", rule="ends_after_start")
    clash = WorkingHours.objects.filter(staff_id=staff_id, weekday=weekday, starts__lt=ends, ends__gt=starts)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise InvalidInput("The block overlaps another of the same day.", field="starts", rule="working_hours_overlap")


def working_hours_add(
    *,
    staff_id: int,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    now: dt.datetime | None = None,
) -> StaffTimeChange:
    """Add a weekly block. More working time leaves no booking behind, but it still locks the
    person, so that two blocks added at once cannot overlap."""
    staff = _staff(staff_id, schedulable=True)

    def apply() -> WorkingHours:
        _check_hours(staff.pk, weekday, starts, ends, exclude_id=None)
        return WorkingHours.objects.create(staff=staff, weekday=weekday, starts=starts, ends=ends)

    made, left = _staff_change(lambda: {staff.pk}, apply, accept_conflicts=False, now=now_or(now))
    return StaffTimeChange(made, left)


def working_hours_change(
    *,
    block_id: int,
    changes: dict[str, Any],
    accept_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> StaffTimeChange:
    """Change a weekly block (``changes``: staff_id, weekday, starts, ends)."""
    _known_fields(changes, WORKING_HOURS_FIELDS)
    if "staff_id" in changes:
        _staff(changes["staff_id"], schedulable=True)
    return _row_change(
        WorkingHours,
        block_id,
        changes,
        check=lambda row: _check_hours(row.staff_id, row.weekday, row.starts, row.ends, exclude_id=row.pk),
        accept_conflicts=accept_conflicts,
        now=now_or(now),
    )


def working_hours_remove(
    *, block_id: int, accept_conflicts: bool = False, now: dt.datetime | None = None
) -> StaffTimeChange:
    """Remove a weekly block; refused while bookings of the person fall in it (unless accepted)."""

    def apply() -> None:
        _locked_row(WorkingHours, block_id).delete()

    _, left = _staff_change(
        lambda: {_owner(WorkingHours, block_id)}, apply, accept_conflicts=accept_conflicts, now=now_or(now)
    )
    return StaffTimeChange(None, left)
