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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction

from clinic.models import StaffMember, TimeOff, WorkingHours
from ketaminecare.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from ketaminecare.roles import Role
from ketaminecare.rules import Rule
from sessions.services.common import now_or, require_aware
from sessions.services.staff_bookings import (
    BookingToMove,
    bookings_left_outside,
    outside_before,
)

RULE = Rule.STAFF_HAS_BOOKINGS
MSG_HAS_BOOKINGS = (
    "This change leaves {count} booking(s) outside the person's working time; move them first, "
    "or send accept_conflicts=true to make the change and move them after."
)
MSG_NO_STAFF = "No such clinician or therapist."  # working hours are theirs only
LOCK_ATTEMPTS = 3
MSG_MOVING = "The record kept changing hands while this change waited; nothing was changed. Try again."

T = TypeVar("T")
M = TypeVar("M", TimeOff, WorkingHours)
TIME_OFF_FIELDS = ("staff_id", "starts_at", "ends_at", "reason")
WORKING_HOURS_FIELDS = ("staff_id", "weekday", "starts", "ends")


@dataclass(frozen=True)
class StaffTimeChange:
    """What a change made (the row, or None after a removal) and the bookings it left to move."""

    instance: Any
    bookings_to_move: list[BookingToMove]


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
    raise BookingConflict(MSG_MOVING, rule=Rule.CONFLICT, field="staff")


def _staff(staff_id: int, *, schedulable: bool) -> StaffMember:
    """The member of staff (a clinician or therapist when ``schedulable``), or a 400."""
    found = StaffMember.objects.filter(pk=staff_id)
    if schedulable:
        found = found.filter(role__in=[Role.CLINICIAN, Role.THERAPIST])
    staff = found.first()
    if staff is None:
        raise InvalidInput(MSG_NO_STAFF if schedulable else "No such member of staff.", field="staff", rule=Rule.EXISTS)
    return staff


# ---------------------------------------------------------------------------------------------
# Time off


def _check_time_off(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    require_aware(starts_at, "starts_at")
    require_aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise InvalidInput("Time off ends after it starts.", field="ends_at", rule=Rule.ENDS_AFTER_START)
    if ends_at - starts_at > dt.timedelta(days=366):
        raise InvalidInput("Time off lasts at most a year.", field="ends_at", rule=Rule.RANGE_TOO_LONG)


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
        raise NotFound(f"No such {model._meta.verbose_name}.", field="id", rule=Rule.EXISTS)
    return staff_id


def _locked_row(model: type[M], pk: int) -> M:
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No such {model._meta.verbose_name}.", field="id", rule=Rule.EXISTS)
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
        raise InvalidInput(f"Not a field that can be changed: {unknown[0]}.", field=unknown[0], rule=Rule.UNKNOWN_FIELD)


# ---------------------------------------------------------------------------------------------
# Working hours


def _check_hours(staff_id: int, weekday: int, starts: dt.time, ends: dt.time, *, exclude_id: int | None) -> None:
    if not 0 <= weekday <= 6:
        raise InvalidInput("A weekday is 0 (Monday) to 6 (Sunday).", field="weekday", rule=Rule.WEEKDAY)
    if ends <= starts:
        raise InvalidInput("A block ends after it starts.", field="ends", rule=Rule.ENDS_AFTER_START)
    clash = WorkingHours.objects.filter(staff_id=staff_id, weekday=weekday, starts__lt=ends, ends__gt=starts)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise InvalidInput(
            "The block overlaps another of the same day.", field="starts", rule=Rule.WORKING_HOURS_OVERLAP
        )


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
