"""Sending one claimed batch, each message recorded as soon as its provider answers.

For each row of the batch that still carries the batch's token:

1. re-check it against its subject, its channel and quiet hours (``checks.verdict``) and render it;
2. take it: one conditional statement moves it from claimed to sending, if it is still this
   batch's (a cancellation or a move that came meanwhile cleared its claim: then it is skipped);
3. hand the message to the provider, and record what happened (sent with the provider's message
   id, or a retry, or a failure) in one more statement, before the next message is handed over.

The decisions and texts of the whole batch are made first (from the rows as loaded; rows that
are not to be sent leave the batch then). The record of one message and the take of the next are
one statement (``record_and_take``), so a message costs one statement and one commit: no lock is
held while the provider answers. A change to the reminder's subject that comes while the row is
sending leaves it alone (it is no longer live; see ``reminders.services.outbox``): the message
went before the change.

Faults:

- **The database drops.** A write that fails is retried through a reconnect until the batch's
  lease would run out. A message the provider already accepted is recorded by that retry before
  anything else is sent, so it is never sent again. If the database stays unreachable that long,
  the worker stops sending: the rest of the batch stays claimed and is claimed again when its
  lease expires; the message whose record never reached the database is then sent again (the
  ERROR line says so: SMS absorbs it by its idempotency key, email does not).
- **The worker dies.** Its rows stay claimed until their lease expires (the sweep then claims them
  again). Every message it had recorded stays recorded; the one it was handing over is left
  sending, and is the only one that can go twice: SMS carries the reminder's id as the provider's
  idempotency key, so the provider answers with the first message id instead of sending; an email
  that SMTP had already taken goes out again with the same Message-ID.
- **The lease** is short (``REMINDER_LEASE_SECONDS``) and kept alive while the batch is worked on
  (``Lease.renew_if_due``, between messages): a batch whose worker or broker message was lost is
  claimed again within a sweep period plus the lease, and a live worker's batch never is.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from reminders.channels import Channels, DeliveryError, Outgoing
from reminders.messages import ForbiddenContent, render
from reminders.models import Reminder, ReminderKind
from reminders.services.checks import BatchFacts, Verdict, message_context, recipient_address, verdict
from reminders.services.outbox import REASON_MOVED, last_session_starts
from sessions.selectors import booked_window_ids, next_visits, open_request_session_ids
from sessions.services.common import now_or

logger = logging.getLogger(__name__)

Status = Reminder.Status

T = TypeVar("T")

# The errors of a database that cannot be reached (a dropped connection, a restart, a failover).
CONNECTION_ERRORS = (OperationalError, InterfaceError)

_OUTCOME_FIELDS = ("status", "due_at", "attempts", "last_error", "cancelled_at")


@dataclass
class BatchResult:
    sent: int = 0
    cancelled: int = 0
    skipped: int = 0
    deferred: int = 0
    retrying: int = 0
    failed: int = 0
    not_ours: int = 0
    # Set when the database stayed unreachable: how many rows were left for the lease to return,
    # and whether a message the provider had accepted could not be recorded.
    left_claimed: int = 0
    unrecorded: int = 0


class DatabaseGone(Exception):
    """The database stayed unreachable for as long as the batch's lease allowed."""


class Lease:
    """The batch's claim, renewed while its worker works on it (a heartbeat).

    Renewed at the start (the task may have waited in the broker) and then whenever a third of
    the lease has gone by; a database write that keeps failing is retried until ``deadline()``,
    which leaves a third of the lease so that no other worker can have claimed the rows meanwhile.
    """

    def __init__(self, ids: Sequence[int], token: str, *, seconds: int | None = None) -> None:
        self.ids = list(ids)
        self.token = token
        self.seconds = seconds or settings.REMINDER_LEASE_SECONDS
        self.renewed = time.monotonic()

    def renew(self) -> int:
        """Extend the lease of the rows still claimed by this batch; how many there are.

        The clock of the deadline moves only once the new lease is written: a renewal that failed
        (a dropped connection) is tried again, not taken as done."""
        started = time.monotonic()
        leased = Reminder.LEASED_STATUSES
        renewed = Reminder.objects.filter(id__in=self.ids, claim_token=self.token, status__in=leased).update(
            lease_until=timezone.now() + dt.timedelta(seconds=self.seconds)
        )
        self.renewed = started
        return renewed

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed >= self.seconds / 3:
            self.renew()

    def deadline(self) -> float:
        return self.renewed + self.seconds * 2 / 3


def reminders_send_batch(
    *, reminder_ids: Sequence[int], claim_token: str, now: dt.datetime | None = None, channels: Channels | None = None
) -> BatchResult:
    """Send the rows of one claimed batch that still carry ``claim_token``. Harmless twice."""
    batch = _Batch(reminder_ids, claim_token, now=now, channels=channels or Channels())
    try:
        batch.run()
    except DatabaseGone:
        batch.log_stopped()
    else:
        batch.log_done()
    return batch.result


class _Batch:
    def __init__(self, ids: Sequence[int], token: str, *, now: dt.datetime | None, channels: Channels) -> None:
        # With the clock given (tests), rows are marked sent at that time; else when they are marked.
        self.marked_at = now
        self.now = now_or(now)
        self.channels = channels
        self.size = len(ids)
        self.lease = Lease(ids, token)
        self.token_db = Reminder._meta.get_field("claim_token").get_db_prep_value(token, connection)
        self.result = BatchResult()
        self.loaded: int | None = None  # None until the batch's rows are read
        self.done = 0

    def run(self) -> None:
        self._with_reconnect(self.lease.renew)
        rows = self._with_reconnect(self._load)
        self.loaded = len(rows)
        self.result.not_ours = self.size - len(rows)
        facts = self._with_reconnect(partial(_facts, rows, self.now))
        queue: collections.deque[tuple[Reminder, Outgoing]] = collections.deque()
        for row in rows:
            outgoing = self._prepare(row, facts)
            if outgoing is None:
                self._with_reconnect(partial(self._write_outcome, row))
                self.done += 1
            else:
                queue.append((row, outgoing))
        taken = self._take_next(queue)
        while taken is not None:
            self._with_reconnect(self.lease.renew_if_due)
            taken = self._send(*taken, queue=queue)

    def _load(self) -> list[Reminder]:
        return list(
            Reminder.objects.filter(id__in=self.lease.ids, claim_token=self.lease.token, status=Status.CLAIMED)
            .select_related(
                "patient",
                "staff__user",
                "session__chair",
                "session__course__protocol",
                "session__patient",
                "appointment__window",
                "appointment__patient",
                "window__patient",
                "course__protocol",
                "alert__patient",
            )
            .order_by("id")
        )

    def _prepare(self, row: Reminder, facts: BatchFacts) -> Outgoing | None:
        """The message to send, or None with the row's outcome set (cancelled, deferred, ...).

        A broken template or a check that fails on one row's data is that row's retry, never the
        whole batch's failure."""
        try:
            decision, reason = verdict(row, now=self.now, facts=facts)
            if decision != Verdict.SEND:
                _decide(row, decision, reason, now=self.now, result=self.result)
                return None
            message = render(row.kind, row.channel, message_context(row))
            return Outgoing(row.pk, row.channel, recipient_address(row), message.subject, message.body)
        except ForbiddenContent as exc:
            _fail(row, f"the text names what a reminder must not: {', '.join(exc.found)}", self.result)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # recorded on the row and retried, as a failed delivery is
            logger.exception("reminder %s: unexpected error while preparing it", row.pk)
            _retry(row, self.now, f"unexpected {type(exc).__name__}", self.result)
        return None

    def _take_next(self, queue: collections.deque[tuple[Reminder, Outgoing]]) -> tuple[Reminder, Outgoing] | None:
        """Take the next row of the queue that is still this batch's (claimed to sending)."""
        while queue:
            row, outgoing = queue.popleft()
            if self._with_reconnect(partial(self._take, row)):
                return row, outgoing
            self._skip(row)
        return None

    def _skip(self, row: Reminder) -> None:
        """A row cancelled, moved or claimed again since the batch was loaded: not this batch's."""
        self.result.not_ours += 1
        self.done += 1
        logger.debug("reminder batch %s: reminder %s is no longer this batch's", self.lease.token, row.pk)

    def _send(
        self, row: Reminder, outgoing: Outgoing, *, queue: collections.deque[tuple[Reminder, Outgoing]]
    ) -> tuple[Reminder, Outgoing] | None:
        """Hand one taken row to the provider and record it; the next row taken, if any."""
        message_id = self._deliver(row, outgoing)
        self.done += 1
        if not message_id:
            self._with_reconnect(partial(self._write_outcome, row, was=Status.SENDING))
            return self._take_next(queue)
        self.result.sent += 1
        following = queue[0][0] if queue else None
        try:
            recorded, taken = self._record_and_take(row, message_id, following)
        except CONNECTION_ERRORS:
            logger.warning(
                "reminder batch %s: the database dropped after the provider accepted reminder %s; recording it",
                self.lease.token,
                row.pk,
            )
            connection.close()
            self._with_reconnect(partial(self._record_after_drop, row, message_id), unrecorded=True)
            # The next row may have been taken by the statement that failed: a strict take then
            # refuses it, and its lease brings it back (it was not handed over).
            return self._take_next(queue)
        if not recorded:
            self._with_reconnect(partial(self._record_after_drop, row, message_id), unrecorded=True)
        if following is None:
            return None
        next_row, next_outgoing = queue.popleft()
        if taken:
            return next_row, next_outgoing
        self._skip(next_row)
        return self._take_next(queue)

    def _take(self, row: Reminder) -> bool:
        """Claimed to sending, while the row is still this batch's; whether it was."""
        with connection.cursor() as cursor:
            cursor.execute(_statements().take, [row.pk, self.token_db])
            return cursor.rowcount == 1

    def _record_and_take(self, row: Reminder, message_id: str, following: Reminder | None) -> tuple[bool, bool]:
        """One statement, committed before the next message is handed over: ``row`` sending to
        sent with its message id, and ``following`` (if any) claimed to sending. Whether each
        was still this batch's."""
        sent_at = Reminder._meta.get_field("sent_at").get_db_prep_value(self._sent_at(), connection)
        following_id = following.pk if following is not None else None
        pk = row.pk
        # In the order of the placeholders: the six CASEs (two with a value), then the WHERE.
        params = [pk, pk, sent_at, pk, message_id, pk, pk, pk, self.token_db, pk, following_id]
        with connection.cursor() as cursor:
            cursor.execute(_statements().record_and_take, params)
            changed = {pk for (pk,) in cursor.fetchall()}
        return row.pk in changed, following_id in changed

    def _deliver(self, row: Reminder, outgoing: Outgoing) -> str:
        """The provider's message id, or "" with the row's retry or failure set."""
        try:
            return self.channels.deliver(outgoing)
        except DeliveryError as exc:
            if exc.retryable:
                _retry(row, self.now, exc.reason, self.result)
            else:
                _fail(row, exc.reason, self.result)
        except SoftTimeLimitExceeded:
            raise  # the task ran out of time: the row stays sending and comes back after its lease
        except Exception as exc:  # a broken backend: recorded on the row and retried
            logger.exception("reminder %s: unexpected error while sending", row.pk)
            _retry(row, self.now, f"unexpected {type(exc).__name__}", self.result)
        return ""

    def _sent_at(self) -> dt.datetime:
        return self.marked_at or timezone.now()

    def _write_sent(self, row: Reminder, message_id: str) -> int:
        """Sending to sent, if the row is still this batch's; how many rows that was (0 or 1)."""
        sent_at = Reminder._meta.get_field("sent_at").get_db_prep_value(self._sent_at(), connection)
        with connection.cursor() as cursor:
            cursor.execute(_statements().mark_sent, [sent_at, message_id, row.pk, self.token_db])
            return cursor.rowcount

    def _write_outcome(self, row: Reminder, *, was: str = Status.CLAIMED) -> None:
        """A decision or a failed delivery: the row leaves the batch (pending, cancelled, ...).

        A row sent back to pending can meet a live row written meanwhile for its subject's new
        time (the subject moved while this one was with the provider): it is then cancelled.
        """
        fields = {name: getattr(row, name) for name in _OUTCOME_FIELDS}
        ours = Reminder.objects.filter(pk=row.pk, claim_token=self.lease.token, status=was)
        try:
            with transaction.atomic():
                ours.update(**fields, claim_token=None, lease_until=None)
        except IntegrityError:
            ours.update(
                status=Status.CANCELLED,
                cancelled_at=self.now,
                last_error=REASON_MOVED,
                claim_token=None,
                lease_until=None,
            )

    def _record_after_drop(self, row: Reminder, message_id: str) -> None:
        if self._write_sent(row, message_id):
            return
        current = Reminder.objects.filter(pk=row.pk).values_list("status", "provider_message_id").first()
        if current == (Status.SENT, message_id):
            return  # the commit had gone through before the connection dropped
        logger.warning(
            "reminder batch %s: reminder %s went out, but its row was changed meanwhile (now %s); not recorded",
            self.lease.token,
            row.pk,
            current[0] if current else "deleted",
        )

    def _with_reconnect(self, work: Callable[[], T], *, unrecorded: bool = False) -> T:
        """Run ``work``; on a dropped connection, reconnect and run it again until the deadline."""
        pause = 0.1
        while True:
            try:
                return work()
            except CONNECTION_ERRORS as exc:
                connection.close()  # the next query opens a new connection
                if time.monotonic() + pause > self.lease.deadline():
                    self.result.unrecorded += int(unrecorded)
                    raise DatabaseGone(type(exc).__name__) from exc
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def log_done(self) -> None:
        result = self.result
        logger.info(
            "reminder batch %s: %d sent, %d cancelled, %d skipped, %d deferred, %d retrying, %d failed, %d not ours",
            self.lease.token,
            result.sent,
            result.cancelled,
            result.skipped,
            result.deferred,
            result.retrying,
            result.failed,
            result.not_ours,
        )

    def log_stopped(self) -> None:
        result = self.result
        result.left_claimed = (self.size if self.loaded is None else self.loaded) - self.done
        logger.error(
            "reminder batch %s (%d reminders): the database stayed unreachable, so sending stopped after %d sent "
            "and recorded; the other %d stay claimed and are sent when their lease (%d s) expires%s",
            self.lease.token,
            self.size,
            result.sent,
            result.left_claimed,
            self.lease.seconds,
            (
                f"; {result.unrecorded} went out but could not be recorded and will be sent again "
                "(SMS: the provider's idempotency key absorbs it; email: a repeat)"
                if result.unrecorded
                else ""
            ),
            extra={"event": "reminder_batch_stopped"},
        )


@dataclass(frozen=True)
class _Statements:
    take: str
    mark_sent: str
    record_and_take: str


@functools.cache
def _statements() -> _Statements:
    """The statements every message runs, as plain SQL (no value is interpolated): the ORM's
    compiling of them cost more than the database's running them."""
    table = connection.ops.quote_name(Reminder._meta.db_table)
    claimed, sending, sent = f"'{Status.CLAIMED}'", f"'{Status.SENDING}'", f"'{Status.SENT}'"
    ours = "id = %s AND claim_token = %s AND status = "
    cleared = "claim_token = NULL, lease_until = NULL, last_error = ''"
    # Each column: the recorded row's new value, else the taken row's (only its status changes).
    record = {
        "status": (sent, sending),
        "sent_at": ("%s", "sent_at"),
        "provider_message_id": ("%s", "provider_message_id"),
        "claim_token": ("NULL", "claim_token"),
        "lease_until": ("NULL", "lease_until"),
        "last_error": ("''", "last_error"),
    }
    both = ", ".join(f"{column} = CASE WHEN id = %s THEN {a} ELSE {b} END" for column, (a, b) in record.items())
    return _Statements(
        take=f"UPDATE {table} SET status = {sending} WHERE {ours}{claimed}",  # noqa: S608
        mark_sent=(
            f"UPDATE {table} SET status = {sent}, sent_at = %s, provider_message_id = %s, {cleared} "  # noqa: S608
            f"WHERE {ours}{sending}"
        ),
        record_and_take=(
            f"UPDATE {table} SET {both} WHERE claim_token = %s "  # noqa: S608
            f"AND ((id = %s AND status = {sending}) OR (id = %s AND status = {claimed})) RETURNING id"
        ),
    )


def _facts(rows: Sequence[Reminder], now: dt.datetime) -> BatchFacts:
    return BatchFacts(
        booked_windows=booked_window_ids([r.window_id for r in rows if r.window_id]),
        course_last_starts=last_session_starts({r.course_id for r in rows if r.course_id}),
        next_visits=next_visits(
            {r.course_id for r in rows if r.course_id and r.kind == ReminderKind.COURSE_BOOKED}, now=now
        ),
        open_request_sessions=open_request_session_ids(
            {r.session_id for r in rows if r.session_id and r.kind == ReminderKind.REQUEST_NEEDS_HANDLING}
        ),
    )


def _decide(row: Reminder, decision: str, reason: str, *, now: dt.datetime, result: BatchResult) -> None:
    if decision == Verdict.CANCEL:
        row.status, row.cancelled_at, row.last_error = Status.CANCELLED, now, reason
        result.cancelled += 1
    elif decision == Verdict.SKIP:
        row.status, row.last_error = Status.SKIPPED, reason
        result.skipped += 1
    else:  # Verdict.DEFER
        row.status, row.last_error = Status.PENDING, reason
        row.attempts = max(row.attempts - 1, 0)  # waiting is not a try
        result.deferred += 1


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
