"""Sending the outbox: the periodic sweep, the claim with its lease, and the send of a batch.

Once per reminder, step by step (and where that stops holding):

1. The sweep claims due rows in batches, each batch in its own transaction: ``SELECT ... FOR
   UPDATE SKIP LOCKED`` picks pending rows that are due and claimed rows whose lease has expired
   (their worker died), and one UPDATE gives them a fresh token and a lease. After commit, one
   Celery task per batch carries the ids and the token. Nothing waits in the broker for later:
   the database holds the future, and the broker only ever holds work that is due now.
2. A worker locks the rows of its batch that still carry its token (a row re-claimed by a later
   sweep, cancelled or moved no longer does, so a task delivered twice sends nothing twice),
   re-checks each against its subject (cancelled, moved, booked), the channel (opt-out) and
   quiet hours, sends it with its id as the provider's idempotency key, and marks it sent with
   the provider's message id in the same transaction.
3. A failed send goes back to pending with a backoff, and ends failed after
   ``REMINDER_MAX_ATTEMPTS`` claims. A worker killed mid-batch leaves its rows claimed: the
   database rolls its transaction back, and the sweep takes them again once the lease expires.
   The only repeat left is a message the provider accepted just before the worker died. For SMS
   the idempotency key makes the provider answer with the first message id instead of sending
   again. SMTP has no such key: that email goes out a second time, with the same Message-ID
   (which mail systems may use to drop it). Email is at least once; SMS is exactly once.

The lease (``REMINDER_LEASE_SECONDS``) is longer than the task's hard time limit, so a batch is
never sent by two live workers at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.models import StaffMember
from ketaminecare.roles import Role
from reminders.channels import Channels, DeliveryError, Outgoing
from reminders.messages import (
    FALLBACK_PREPARATION,
    ForbiddenContent,
    clean_free_text,
    local_date_text,
    local_time_text,
    render,
)
from reminders.models import APPOINTMENT_KINDS, SESSION_KINDS, Reminder, ReminderKind, ReminderRule
from reminders.services.outbox import (
    DEFAULT_REMINDER_PLAN,
    last_session_starts,
    maintenance_due_anchor,
    patient_release_at,
    plans_by_protocol,
    window_closing_minutes,
)
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone
from sessions.services.common import now_or

logger = logging.getLogger(__name__)

Status = Reminder.Status
Enqueue = Callable[[list[int], str], object]


def enqueue_send_batch(reminder_ids: list[int], claim_token: str) -> None:
    from reminders.tasks import reminders_send_batch

    reminders_send_batch.delay(reminder_ids, claim_token)


# ---------------------------------------------------------------------------------------------
# The sweep


@dataclass
class SweepResult:
    windows_opened: int = 0
    windows_alerted: int = 0
    windows_closed: int = 0
    failed_leases: int = 0
    claimed: int = 0
    batches: list[tuple[str, list[int]]] = field(default_factory=list)


def reminders_sweep(
    *,
    now: dt.datetime | None = None,
    enqueue: Enqueue | None = None,
    batch_size: int | None = None,
    limit: int | None = None,
) -> SweepResult:
    """Advance the integration windows, then claim every due reminder in batches and enqueue them.

    Safe to run concurrently with itself (skip-locked claims) and at any time.
    """
    now = now_or(now)
    result = SweepResult()
    result.windows_opened, result.windows_alerted, result.windows_closed = windows_advance(now=now)
    result.failed_leases = _fail_exhausted_leases(now)
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    limit = limit or settings.REMINDER_SWEEP_LIMIT
    enqueue = enqueue or enqueue_send_batch
    while result.claimed < limit:
        claim = reminders_claim(now=now, batch_size=min(batch_size, limit - result.claimed), enqueue=enqueue)
        if claim is None:
            break
        result.claimed += len(claim[1])
        result.batches.append(claim)
    if result.claimed or result.failed_leases:
        logger.info("reminder sweep: %d claimed in %d batches", result.claimed, len(result.batches))
    return result


def due_filter(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, due_at__lte=now) | Q(
        status=Status.CLAIMED, lease_until__lt=now, attempts__lt=settings.REMINDER_MAX_ATTEMPTS
    )


def reminders_claim(*, now: dt.datetime, batch_size: int, enqueue: Enqueue) -> tuple[str, list[int]] | None:
    """Claim one batch of due rows with a new token and lease; enqueue it after commit."""
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(due_filter(now))
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return None
        token = str(uuid.uuid4())
        Reminder.objects.filter(id__in=ids).update(
            status=Status.CLAIMED,
            claim_token=token,
            claimed_at=now,
            lease_until=now + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
        transaction.on_commit(partial(enqueue, ids, token))
    return token, ids


def _fail_exhausted_leases(now: dt.datetime) -> int:
    """Rows whose workers died on every one of their tries end failed (for the front desk)."""
    return Reminder.objects.filter(
        status=Status.CLAIMED, lease_until__lt=now, attempts__gte=settings.REMINDER_MAX_ATTEMPTS
    ).update(status=Status.FAILED, claim_token=None, lease_until=None, last_error="no worker finished it in time")


# ---------------------------------------------------------------------------------------------
# The integration window's life


def windows_advance(*, now: dt.datetime) -> tuple[int, int, int]:
    """Open, alert and close the windows whose moment has come; each moment recorded once.

    Every step is a conditional update on a NULL moment, under a skip-locked row lock (a booking
    that holds a window is left for the next sweep), and writes its staff alerts in the same
    transaction: a second sweep finds nothing to do.
    """
    return _windows_open(now), _windows_alert_closing(now), _windows_close(now)


def _live_windows() -> Q:
    return Q(cancelled_at__isnull=True, closed_at__isnull=True)


def _booked_window_ids(window_ids: Sequence[int]) -> set[int]:
    return set(
        IntegrationAppointment.objects.filter(
            window_id__in=window_ids, status__in=IntegrationAppointment.OCCUPYING_STATUSES
        ).values_list("window_id", flat=True)
    )


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
                .filter(_live_windows(), opened_at__isnull=True, opens_at__lte=now, closes_at__gt=now)
                .select_related("session__course")
                .order_by("opens_at", "id")[:200]
            )
            if not windows:
                return opened
            ids = [w.pk for w in windows]
            IntegrationWindow.objects.filter(pk__in=ids, opened_at__isnull=True).update(opened_at=now)
            booked = _booked_window_ids(ids)
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
            .filter(_live_windows(), closing_alert_at__isnull=True, closes_at__gt=now)
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
        booked = _booked_window_ids(ids)
        unbooked = [w for w in due if w.pk not in booked]
        front_desk = list(StaffMember.objects.filter(role=Role.FRONT_DESK, is_active=True))
        _staff_alerts(
            unbooked, kind=ReminderKind.WINDOW_CLOSING, recipients={w.pk: front_desk for w in unbooked}, now=now
        )
        return len(due)


def _windows_close(now: dt.datetime) -> int:
    """Record each window that has closed, and whether its integration took place: True when an
    appointment in it was attended, None while one is booked but not recorded, else False."""
    closed = 0
    while True:
        with transaction.atomic():
            ids = list(
                IntegrationWindow.objects.select_for_update(skip_locked=True)
                .filter(_live_windows(), closes_at__lte=now)
                .order_by("closes_at", "id")
                .values_list("id", flat=True)[:500]
            )
            if not ids:
                return closed
            statuses = dict.fromkeys(ids, "none")
            for window_id, status in IntegrationAppointment.objects.filter(
                window_id__in=ids,
                status__in=[IntegrationAppointment.Status.ATTENDED, IntegrationAppointment.Status.BOOKED],
            ).values_list("window_id", "status"):
                if statuses[window_id] != IntegrationAppointment.Status.ATTENDED:
                    statuses[window_id] = status
            took_place = {"attended": True, "booked": None, "none": False}
            for outcome, value in took_place.items():
                group = [i for i, s in statuses.items() if s == outcome]
                if group:
                    IntegrationWindow.objects.filter(pk__in=group, closed_at__isnull=True).update(
                        closed_at=now, opened_at=Coalesce(F("opened_at"), F("opens_at")), integration_took_place=value
                    )
            closed += len(ids)


# ---------------------------------------------------------------------------------------------
# Sending a batch


@dataclass
class BatchResult:
    sent: int = 0
    cancelled: int = 0
    skipped: int = 0
    deferred: int = 0
    retrying: int = 0
    failed: int = 0
    not_ours: int = 0


class _Verdict:
    SEND = "send"
    CANCEL = "cancel"
    SKIP = "skip"
    DEFER = "defer"


@dataclass
class _BatchFacts:
    """What the checks need about a whole batch, read in a fixed number of queries."""

    booked_windows: set[int]
    course_last_starts: dict[int, dt.datetime]


def reminders_send_batch(
    *, reminder_ids: Sequence[int], claim_token: str, now: dt.datetime | None = None, channels: Channels | None = None
) -> BatchResult:
    """Send the rows of one claimed batch that still carry ``claim_token``. Harmless twice.

    One transaction: the rows are locked until they are marked, so a cancellation that comes
    while the batch is being sent waits for it and then finds the rows no longer live.
    """
    # With the clock given (tests), rows are marked sent at that time; else when they are marked.
    marked_at = now
    now = now_or(now)
    channels = channels or Channels()
    result = BatchResult()
    with transaction.atomic():
        rows = list(
            Reminder.objects.select_for_update(of=("self",))
            .filter(id__in=list(reminder_ids), claim_token=claim_token, status=Status.CLAIMED)
            .select_related(
                "patient",
                "staff__user",
                "session__chair",
                "session__course__protocol",
                "appointment__window",
                "window__patient",
                "course__protocol",
            )
            .order_by("id")
        )
        result.not_ours = len(reminder_ids) - len(rows)
        facts = _BatchFacts(
            booked_windows=_booked_window_ids([r.window_id for r in rows if r.window_id]),
            course_last_starts=last_session_starts({r.course_id for r in rows if r.course_id}),
        )
        for row in rows:
            _process(row, now=now, facts=facts, channels=channels, result=result)
        _mark_sent([r for r in rows if r.status == Status.SENT], sent_at=marked_at or timezone.now())
        others = [r for r in rows if r.status != Status.SENT]
        if others:
            Reminder.objects.bulk_update(
                others,
                ["status", "due_at", "attempts", "claim_token", "lease_until", "last_error", "cancelled_at"],
            )
    logger.info(
        "reminder batch %s: %d sent, %d cancelled, %d skipped, %d deferred, %d retrying, %d failed, %d not ours",
        claim_token,
        result.sent,
        result.cancelled,
        result.skipped,
        result.deferred,
        result.retrying,
        result.failed,
        result.not_ours,
    )
    return result


def _mark_sent(rows: Sequence[Reminder], *, sent_at: dt.datetime) -> None:
    """Mark a batch's sent rows in one statement, each with its provider's message id.

    On PostgreSQL an UPDATE ... FROM (VALUES ...); elsewhere a CASE over one column. (Django's
    bulk_update over every column builds a CASE per column and row: most of a batch's time.)
    """
    if not rows:
        return
    for row in rows:
        row.sent_at, row.claim_token, row.lease_until = sent_at, None, None
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Reminder._meta.db_table)
        values = ", ".join(["(%s::bigint, %s)"] * len(rows))
        params: list[Any] = [Status.SENT, sent_at]
        for row in rows:
            params += [row.pk, row.provider_message_id]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS r SET status = %s, sent_at = %s, provider_message_id = v.message_id, "  # noqa: S608
                "claim_token = NULL, lease_until = NULL, last_error = '' "
                f"FROM (VALUES {values}) AS v(id, message_id) WHERE r.id = v.id",
                params,
            )
        return
    # The message ids first: a row is never "sent" without one (a check constraint).
    Reminder.objects.bulk_update(rows, ["provider_message_id"])
    Reminder.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Status.SENT, sent_at=sent_at, claim_token=None, lease_until=None, last_error=""
    )


def _process(row: Reminder, *, now: dt.datetime, facts: _BatchFacts, channels: Channels, result: BatchResult) -> None:
    verdict, reason = _check(row, now=now, facts=facts)
    if verdict == _Verdict.CANCEL:
        row.status, row.cancelled_at, row.last_error = Status.CANCELLED, now, reason
        result.cancelled += 1
    elif verdict == _Verdict.SKIP:
        row.status, row.last_error = Status.SKIPPED, reason
        result.skipped += 1
    elif verdict == _Verdict.DEFER:
        row.status, row.last_error = Status.PENDING, reason
        row.attempts = max(row.attempts - 1, 0)  # waiting is not a try
        result.deferred += 1
    else:
        _send(row, now=now, channels=channels, result=result)
    if row.status != Status.CLAIMED:
        row.claim_token, row.lease_until = None, None


def _send(row: Reminder, *, now: dt.datetime, channels: Channels, result: BatchResult) -> None:
    try:
        message = render(row.kind, row.channel, _context(row))
        outgoing = Outgoing(row.pk, row.channel, _address(row), message.subject, message.body)
        message_id = channels.deliver(outgoing)
    except ForbiddenContent as exc:
        _fail(row, f"the text names what a reminder must not: {', '.join(exc.found)}", result)
        return
    except DeliveryError as exc:
        if exc.retryable:
            _retry(row, now, exc.reason, result)
        else:
            _fail(row, exc.reason, result)
        return
    except Exception as exc:  # a broken template or backend: recorded on the row and retried
        logger.exception("reminder %s: unexpected error while sending", row.pk)
        _retry(row, now, f"unexpected {type(exc).__name__}", result)
        return
    row.status, row.provider_message_id, row.last_error = Status.SENT, message_id, ""
    result.sent += 1


def _retry(row: Reminder, now: dt.datetime, reason: str, result: BatchResult) -> None:
    if row.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        _fail(row, f"{reason} (after {row.attempts} tries)", result)
        return
    delay = min(
        settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(row.attempts - 1, 0), settings.REMINDER_RETRY_MAX_SECONDS
    )
    row.status, row.due_at, row.last_error = Status.PENDING, now + dt.timedelta(seconds=delay), reason[:300]
    result.retrying += 1


def _fail(row: Reminder, reason: str, result: BatchResult) -> None:
    row.status, row.last_error = Status.FAILED, reason[:300]
    logger.warning("reminder %s failed: %s", row.pk, reason)
    result.failed += 1


def _check(row: Reminder, *, now: dt.datetime, facts: _BatchFacts) -> tuple[str, str]:
    """Whether the row's subject still calls for it, now, on its channel."""
    stale = _stale_reason(row, now=now, facts=facts)
    if stale:
        return _Verdict.CANCEL, stale
    if not _channel_allowed(row):
        return _Verdict.SKIP, "The recipient opted out of this channel or has no address for it."
    if row.due_at > now:
        return _Verdict.DEFER, "Moved to a later time."
    if row.patient is not None:
        release = patient_release_at(row.patient, now, row.anchor_at)
        if release > now:
            row.due_at = release
            return _Verdict.DEFER, "Quiet hours: waits for their end."
    return _Verdict.SEND, ""


def _stale_reason(row: Reminder, *, now: dt.datetime, facts: _BatchFacts) -> str:
    if row.kind in SESSION_KINDS:
        session = row.session
        if session is None or session.status != TreatmentSession.Status.SCHEDULED:
            return "The session is no longer scheduled."
        if session.revision != row.subject_revision or session.starts_at != row.anchor_at:
            return "The session moved."
        if session.starts_at <= now:
            return "The session has started."
    elif row.kind in APPOINTMENT_KINDS:
        appointment = row.appointment
        if appointment is None or appointment.status != IntegrationAppointment.Status.BOOKED:
            return "The appointment is no longer booked."
        if appointment.window.cancelled_at is not None:
            return "The window was cancelled."
        if appointment.revision != row.subject_revision or appointment.starts_at != row.anchor_at:
            return "The appointment moved."
        if appointment.starts_at <= now:
            return "The appointment has started."
    elif row.kind == ReminderKind.MAINTENANCE_DUE:
        course = row.course
        if course is None or maintenance_due_anchor(course, facts.course_last_starts.get(course.pk)) != row.anchor_at:
            return "The course changed: maintenance falls due at another time, or not at all."
    else:
        window = row.window
        if window is None or window.cancelled_at is not None:
            return "The window was cancelled."
        if window.revision != row.subject_revision:
            return "The window moved."
        if window.closes_at <= now:
            return "The window has closed."
        if window.pk in facts.booked_windows:
            return "The window has an appointment now."
    return ""


def _channel_allowed(row: Reminder) -> bool:
    if row.patient is not None:
        return row.patient.channel_allowed(row.channel)
    staff = row.staff
    return staff is not None and staff.is_active and bool(_address(row))


def _address(row: Reminder) -> str:
    if row.patient is not None:
        return row.patient.phone if row.channel == "sms" else row.patient.email
    assert row.staff is not None
    return row.staff.phone if row.channel == "sms" else row.staff.user.email


def _context(row: Reminder) -> dict[str, object]:
    if row.patient is not None:
        zone = row.patient.zone
        context: dict[str, object] = {
            "when": local_time_text(row.anchor_at, zone),
            "time": local_time_text(row.anchor_at, zone).split(" at ", 1)[1],
        }
        if row.session is not None:
            chair = row.session.chair
            context["place"] = clean_free_text(chair.location) or clean_free_text(chair.name) or "the front desk"
            context["preparation"] = (
                clean_free_text(row.session.course.protocol.preparation_instructions, FALLBACK_PREPARATION)
                or FALLBACK_PREPARATION
            )
        if row.kind == ReminderKind.MAINTENANCE_DUE:
            context["due_date"] = local_date_text(row.anchor_at, zone)
        return context
    window = row.window
    assert window is not None
    zone = clinic_zone()
    patient = window.patient
    return {
        "patient_ref": f"{patient.first_name[:1]}{patient.last_name[:1]}-{patient.pk}",
        "opens": local_time_text(window.opens_at, zone),
        "closes": local_time_text(window.closes_at, zone),
    }
