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
   quiet hours, sends it with its id as the provider's idempotency key, and records it sent with
   the provider's message id before it sends the next (``reminders.services.send``).
3. A failed send goes back to pending with a backoff, and ends failed after
   ``REMINDER_MAX_ATTEMPTS`` claims. A worker killed mid-batch leaves its unsent rows claimed,
   and the sweep takes them again once the lease expires. The only repeat left is the message the
   provider accepted in the instant before the worker died. For SMS the idempotency key makes the
   provider answer with the first message id instead of sending again. SMTP has no such key: that
   one email goes out a second time, with the same Message-ID (which mail systems may use to drop
   it). Email is at least once; SMS is exactly once.

The lease (``REMINDER_LEASE_SECONDS``, tens of seconds) is renewed by the worker between
messages, so a batch is never sent by two live workers at once, and a batch whose worker or broker
message was lost is claimed again by the first sweep after its lease runs out. That sweep logs
it as a WARNING with the count: it is the one sign, besides the outbox's lag, that workers die or
the broker lost messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When

from reminders.models import NOTICE_FAMILIES, Reminder
from reminders.services.window_alerts import windows_advance
from sessions.services.common import now_or

logger = logging.getLogger(__name__)


Status = Reminder.Status


Enqueue = Callable[[list[int], str], object]


@dataclass
class SweepResult:
    windows_opened: int = 0
    windows_alerted: int = 0
    windows_closed: int = 0
    failed_leases: int = 0
    claimed: int = 0
    reclaimed: int = 0
    superseded: int = 0
    batches: list[tuple[str, list[int]]] = field(default_factory=list)


def reminders_sweep(
    *,
    now: dt.datetime | None = None,
    enqueue: Enqueue,
    batch_size: int | None = None,
    limit: int | None = None,
) -> SweepResult:
    """Advance the integration windows, then claim every due reminder in batches and enqueue them.

    ``enqueue(ids, token)`` is called once per batch after its claim commits (the task module
    hands in the Celery task's ``delay``; a service never imports a task).

    Safe to run concurrently with itself (skip-locked claims) and at any time.
    """
    now = now_or(now)
    result = SweepResult()
    result.windows_opened, result.windows_alerted, result.windows_closed = windows_advance(now=now)
    result.superseded = _cancel_superseded(now)
    result.failed_leases = _fail_exhausted_leases(now)
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    limit = limit or settings.REMINDER_SWEEP_LIMIT
    while result.claimed < limit:
        claim = reminders_claim(now=now, batch_size=min(batch_size, limit - result.claimed), enqueue=enqueue)
        if claim is None:
            break
        result.claimed += len(claim.ids)
        result.reclaimed += claim.reclaimed
        result.batches.append((claim.token, claim.ids))
    _log(result)
    return result


def _log(result: SweepResult) -> None:
    if result.reclaimed:
        logger.warning(
            "reminder sweep: %d reminders claimed again after their lease (%d s) expired: a worker died or the "
            "broker lost their message; they go out now",
            result.reclaimed,
            settings.REMINDER_LEASE_SECONDS,
            extra={"event": "reminder_leases_expired"},
        )
    if result.failed_leases:
        logger.warning(
            "reminder sweep: %d reminders failed: no worker finished them in %d tries",
            result.failed_leases,
            settings.REMINDER_MAX_ATTEMPTS,
            extra={"event": "reminder_leases_exhausted"},
        )
    if result.superseded:
        logger.warning(
            "reminder sweep: %d reminders left with the provider by a dead worker were replaced by reminders for "
            "their subject's new time, and cancelled",
            result.superseded,
            extra={"event": "reminder_superseded"},
        )
    if result.claimed:
        logger.info("reminder sweep: %d claimed in %d batches", result.claimed, len(result.batches))


def due_filter(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, due_at__lte=now) | Q(
        status__in=Reminder.LEASED_STATUSES, lease_until__lt=now, attempts__lt=settings.REMINDER_MAX_ATTEMPTS
    )


@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]
    reclaimed: int  # how many of them were claimed before, by a batch whose lease expired


def reminders_claim(*, now: dt.datetime, batch_size: int, enqueue: Enqueue) -> Claim | None:
    """Claim one batch of due rows with a new token and lease; enqueue it after commit."""
    with transaction.atomic():
        rows = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(due_filter(now))
            .order_by("due_at", "id")
            .values_list("id", "status")[:batch_size]
        )
        if not rows:
            return None
        ids = [pk for pk, _ in rows]
        token = str(uuid.uuid4())
        Reminder.objects.filter(id__in=ids).update(
            lease_expiries=F("lease_expiries") + Case(When(status__in=Reminder.LEASED_STATUSES, then=1), default=0),
            status=Status.CLAIMED,
            claim_token=token,
            claimed_at=now,
            lease_until=now + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
        transaction.on_commit(partial(enqueue, ids, token))
    return Claim(token, ids, reclaimed=sum(1 for _, status in rows if status in Reminder.LEASED_STATUSES))


def _fail_exhausted_leases(now: dt.datetime) -> int:
    """Rows whose workers died on every one of their tries end failed (for the front desk). A row
    that was with the provider when its last worker died says so: its message may have gone."""
    exhausted = Reminder.objects.filter(lease_until__lt=now, attempts__gte=settings.REMINDER_MAX_ATTEMPTS)
    failed = exhausted.filter(status=Status.CLAIMED).update(
        status=Status.FAILED, claim_token=None, lease_until=None, last_error="no worker finished it in time"
    )
    return failed + exhausted.filter(status=Status.SENDING).update(
        status=Status.FAILED, claim_token=None, lease_until=None, last_error=REASON_MAYBE_SENT
    )


REASON_MAYBE_SENT = "Its worker stopped while the provider had it: it may have gone out; check before sending again."
REASON_SUPERSEDED = (
    "Its subject changed while the provider had it, and a reminder for the new time replaced it; it may have gone out."
)

# The recipient field of each kind of subject (the live-row unique constraints pair them so).
_SUBJECTS = (
    ("session", "patient"),
    ("appointment", "patient"),
    ("course", "patient"),
    ("window", "staff"),
    ("alert", "staff"),
)


def _cancel_superseded(now: dt.datetime) -> int:
    """A row left sending by a dead worker, whose subject has moved since: the outbox wrote a live
    row for the new time, and claiming the old one again would make two live rows of one message
    (the unique constraints refuse that, and the whole claim with it). It is cancelled instead.
    For a notice, the live row that replaced it may be of another kind of its family (a cancel
    after a move)."""
    cancelled = 0
    for subject, recipient in _SUBJECTS:
        sibling = Reminder.objects.filter(
            kind=OuterRef("kind"),
            channel=OuterRef("channel"),
            **{subject: OuterRef(subject), recipient: OuterRef(recipient)},
            status__in=Reminder.LIVE_STATUSES,
        )
        left = Reminder.objects.filter(status=Status.SENDING, lease_until__lt=now, **{f"{subject}__isnull": False})
        cancelled += _supersede(left.filter(Exists(sibling)), now)
    for _family, kinds, subject, recipient in NOTICE_FAMILIES:
        sibling = Reminder.objects.filter(
            kind__in=list(kinds),
            channel=OuterRef("channel"),
            **{subject: OuterRef(subject), recipient: OuterRef(recipient)},
            status__in=Reminder.LIVE_STATUSES,
        )
        left = Reminder.objects.filter(status=Status.SENDING, lease_until__lt=now, kind__in=list(kinds))
        cancelled += _supersede(left.filter(Exists(sibling)), now)
    return cancelled


def _supersede(rows: QuerySet[Reminder], now: dt.datetime) -> int:
    return rows.update(
        status=Status.CANCELLED, cancelled_at=now, claim_token=None, lease_until=None, last_error=REASON_SUPERSEDED
    )
