"""The moments of an integration window that call for staff: it opened unbooked (a nudge to the
patient's therapist), and it is about to close unbooked (an alert to the front desk).

Each moment is recorded on the window once, by a conditional update under a skip-locked row lock
(a booking that holds a window is left for the next sweep), in the same transaction as its
alerts: a second sweep finds nothing to do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max

from clinic.models import StaffMember
from ketaminecare.roles import Role
from reminders.models import Reminder, ReminderKind, ReminderRule
from reminders.services.plan import DEFAULT_REMINDER_PLAN, plans_by_protocol, window_closing_minutes
from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.selectors import booked_window_ids, live_windows
from sessions.services.windows import windows_close_due


def windows_advance(*, now: dt.datetime) -> tuple[int, int, int]:
    """Open, alert and close the windows whose moment has come; each moment recorded once.

    Every step is a conditional update on a NULL moment, under a skip-locked row lock (a booking
    that holds a window is left for the next sweep), and writes its staff alerts in the same
    transaction: a second sweep finds nothing to do.
    """
    return _windows_open(now), _windows_alert_closing(now), windows_close_due(now=now)


def _staff_alerts(
    windows: Sequence[IntegrationWindow], *, kind: str, recipients: dict[int, list[StaffMember]], now: dt.datetime
) -> int:
    plans = plans_by_protocol({w.session.course.protocol_id for w in windows})
    rows = []
    for window in windows:
        channels = {c for line in plans[window.session.course.protocol_id] if line.kind == kind for c in line.channels}
        anchor = window.opens_at if kind == ReminderKind.WINDOW_OPENED else window.closes_at
        for member in recipients.get(window.pk, []):
            for channel in sorted(channels):
                rows.append(
                    Reminder(
                        kind=kind,
                        channel=channel,
                        staff=member,
                        window=window,
                        anchor_at=anchor,
                        subject_revision=window.revision,
                        planned_at=now,
                        due_at=now,
                    )
                )
    Reminder.objects.bulk_create(rows)
    return len(rows)


def _patients_therapists(windows: Sequence[IntegrationWindow]) -> dict[int, list[StaffMember]]:
    """The patient's own therapist (of their latest appointment) for each window, else all."""
    active = list(StaffMember.objects.filter(role=Role.THERAPIST, is_active=True))
    by_id = {t.pk: t for t in active}
    latest: dict[int, int] = {}
    for patient_id, therapist_id in (
        IntegrationAppointment.objects.filter(patient_id__in={w.patient_id for w in windows})
        .exclude(status=IntegrationAppointment.Status.CANCELLED)
        .order_by("patient_id", "-starts_at")
        .values_list("patient_id", "therapist_id")
    ):
        latest.setdefault(patient_id, therapist_id)
    return {w.pk: [by_id[latest[w.patient_id]]] if latest.get(w.patient_id) in by_id else active for w in windows}


def _windows_open(now: dt.datetime) -> int:
    opened = 0
    while True:
        with transaction.atomic():
            windows = list(
                IntegrationWindow.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(live_windows(), opened_at__isnull=True, opens_at__lte=now, closes_at__gt=now)
                .select_related("session__course")
                .order_by("opens_at", "id")[:200]
            )
            if not windows:
                return opened
            ids = [w.pk for w in windows]
            IntegrationWindow.objects.filter(pk__in=ids, opened_at__isnull=True).update(opened_at=now)
            booked = booked_window_ids(ids)
            unbooked = [w for w in windows if w.pk not in booked]
            _staff_alerts(unbooked, kind=ReminderKind.WINDOW_OPENED, recipients=_patients_therapists(unbooked), now=now)
            opened += len(windows)


def _longest_closing_alert_minutes() -> int:
    """How far ahead of a close any protocol alerts: the sweep looks no further."""
    defaults = [line.minutes_before for line in DEFAULT_REMINDER_PLAN if line.kind == ReminderKind.WINDOW_CLOSING]
    configured = ReminderRule.objects.filter(kind=ReminderKind.WINDOW_CLOSING, is_active=True).aggregate(
        longest=Max("minutes_before")
    )["longest"]
    return max([*defaults, configured or 0])


def _windows_alert_closing(now: dt.datetime) -> int:
    with transaction.atomic():
        candidates = list(
            IntegrationWindow.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(live_windows(), closing_alert_at__isnull=True, closes_at__gt=now)
            .filter(closes_at__lte=now + dt.timedelta(minutes=_longest_closing_alert_minutes()))
            .select_related("session__course")
            .order_by("closes_at", "id")[:2000]
        )
        if not candidates:
            return 0
        plans = plans_by_protocol({w.session.course.protocol_id for w in candidates})
        due = []
        for window in candidates:
            minutes = window_closing_minutes(plans[window.session.course.protocol_id])
            if minutes is not None and window.closes_at - dt.timedelta(minutes=minutes) <= now:
                due.append(window)
        if not due:
            return 0
        ids = [w.pk for w in due]
        IntegrationWindow.objects.filter(pk__in=ids, closing_alert_at__isnull=True).update(closing_alert_at=now)
        booked = booked_window_ids(ids)
        unbooked = [w for w in due if w.pk not in booked]
        front_desk = list(StaffMember.objects.filter(role=Role.FRONT_DESK, is_active=True))
        _staff_alerts(
            unbooked, kind=ReminderKind.WINDOW_CLOSING, recipients={w.pk: front_desk for w in unbooked}, now=now
        )
        return len(due)
