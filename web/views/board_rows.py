"""What the window board shows: its groups of windows, the therapist's week, the free times.

Built from the sessions selectors, scoped by the access policy for the user it is given; no
request and no write here (the views in this package answer and write).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from clinic.selectors import staff_member_id_of
from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.selectors import appointments_visible_to, board_windows, clinic_zone, day_bounds, window_free_slots

# A window opening within this long is "opening soon"; an open one closing within this long is
# "closing soon". Unbooked windows opening later, up to a week ahead, are listed too, so that
# none is forgotten until it is urgent.
OPENING_SOON = dt.timedelta(hours=24)
CLOSING_SOON = dt.timedelta(hours=6)
UNBOOKED_AHEAD = dt.timedelta(days=7)

Status = IntegrationAppointment.Status


@dataclass(frozen=True)
class Stretch:
    """A free stretch of the therapist inside a window, and the appointment starts it offers."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    starts: list[dt.datetime]


@dataclass
class WindowRow:
    window: IntegrationWindow
    open_now: bool
    mine: IntegrationAppointment | None = None
    stretches: list[Stretch] | None = None  # None: folded; a list (maybe empty): unfolded
    error: str = ""
    changed: bool = False  # the row a write answered about: marked, and the focus goes there


@dataclass
class AppointmentRow:
    appointment: IntegrationAppointment
    changeable: bool
    moving: list[Stretch] | None = None
    cancelling: bool = False
    error: str = ""
    reason: str = ""
    changed: bool = False
    focus: bool = False  # the focus goes there (after "keep it", with nothing changed)


@dataclass
class Group:
    key: str
    title: str
    hint: str
    rows: list[WindowRow] = field(default_factory=list)


@dataclass(frozen=True)
class Moment:
    """What the board is looking at: a chosen date (its week) and the instant the groups count from.

    The instant is now, or the start of a later chosen day: the board never looks back, since a
    window in the past can no longer be booked.
    """

    date: dt.date
    at: dt.datetime
    now: dt.datetime

    @property
    def week(self) -> tuple[dt.date, dt.date]:
        monday = self.date - dt.timedelta(days=self.date.weekday())
        return monday, monday + dt.timedelta(days=6)


def my_appointments(user: Any) -> Any:
    """The signed-in therapist's own appointments (the policy's scope, and theirs by name)."""
    staff_id = staff_member_id_of(user)
    return appointments_visible_to(user).filter(therapist_id=staff_id)


def board_body(
    user: Any,
    moment: Moment,
    *,
    window_id: int | None = None,
    appointment_id: int | None = None,
    action: str = "",
    error: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """The board's groups and the week, with one row unfolded (and saying ``error``) if asked."""
    staff_id = staff_member_id_of(user)
    groups = [
        Group("closing", "Closing soon", f"Open now and closing within {_hours(CLOSING_SOON)} hours."),
        Group("open", "Open now", "Open for a while yet."),
        Group("opening", "Opening soon", f"Opening within {_hours(OPENING_SOON)} hours."),
        Group("unbooked", "Unbooked, opening later", f"No appointment yet; opening within {UNBOOKED_AHEAD.days} days."),
    ]
    by_key = {group.key: group for group in groups}
    for window in board_windows(user, at=moment.at, soon=OPENING_SOON, ahead=UNBOOKED_AHEAD):
        row = window_row(window, moment, staff_id=staff_id, unfold=window.pk == window_id)
        if window.pk == window_id:
            row.error, row.changed = error, True
        by_key[group_of(window, moment.at)].rows.append(row)
    for group in groups:
        group.rows.sort(key=lambda r: (r.window.closes_at if r.open_now else r.window.opens_at, r.window.pk))

    monday, sunday = moment.week
    start, end = day_bounds(monday, sunday, clinic_zone())
    appointments = (
        my_appointments(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Status.CANCELLED)
        .order_by("starts_at")
    )
    days: dict[dt.date, list[AppointmentRow]] = {monday + dt.timedelta(days=i): [] for i in range(7)}
    for appointment in appointments:
        entry = appointment_row(appointment, moment)
        if appointment.pk == appointment_id:
            entry.changed, entry.error, entry.reason = True, error, reason
            if error and action == "move":
                entry.moving = stretches(appointment.window, appointment.therapist_id, moment.now)
            entry.cancelling = bool(error) and action == "cancel"
        days[timezone.localtime(appointment.starts_at, clinic_zone()).date()].append(entry)
    return {
        "moment": moment,
        "groups": groups,
        "week": [{"date": day, "rows": rows} for day, rows in days.items()],
        "week_first": monday,
        "week_last": sunday,
        "linked": staff_id is not None,
    }


def group_of(window: IntegrationWindow, at: dt.datetime) -> str:
    if window.opens_at <= at:
        return "closing" if window.closes_at - at <= CLOSING_SOON else "open"
    return "opening" if window.opens_at - at <= OPENING_SOON else "unbooked"


def window_row(window: IntegrationWindow, moment: Moment, *, staff_id: int | None, unfold: bool) -> WindowRow:
    active: list[IntegrationAppointment] = getattr(window, "active_appointments", [])
    # Another therapist's appointment is outside a therapist's scope: the board says "booked" only.
    mine = next((a for a in active if staff_id is not None and a.therapist_id == staff_id), None)
    row = WindowRow(window=window, open_now=window.opens_at <= moment.at, mine=mine)
    if unfold and not active and staff_id is not None:
        row.stretches = stretches(window, staff_id, moment.now)
    elif unfold:
        row.stretches = []
    return row


def appointment_row(appointment: IntegrationAppointment, moment: Moment) -> AppointmentRow:
    changeable = appointment.status == Status.BOOKED and appointment.starts_at > moment.now
    return AppointmentRow(appointment=appointment, changeable=changeable)


def stretches(window: IntegrationWindow, therapist_id: int, now: dt.datetime) -> list[Stretch]:
    """The therapist's free stretches in the window, each cut into back-to-back appointments that
    start on the booking grid (a stretch that starts now would otherwise offer 10:07:31)."""
    length = dt.timedelta(minutes=settings.INTEGRATION_APPOINTMENT_MINUTES)
    grid = dt.timedelta(minutes=settings.BOOKING_SLOT_MINUTES)
    stretches = []
    for block in window_free_slots(window, therapist_id=therapist_id, now=now):
        start = _round_up(block.starts_at, grid)
        starts = []
        while start + length <= block.ends_at:
            starts.append(start)
            start += length
        if starts:
            stretches.append(Stretch(block.starts_at, block.ends_at, starts))
    return stretches


def _round_up(instant: dt.datetime, grid: dt.timedelta) -> dt.datetime:
    # On UTC instants: the clinic's zones are offset from UTC by whole quarter hours.
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    steps = -(-(instant - epoch) // grid)
    return epoch + steps * grid


def _hours(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 3600)
