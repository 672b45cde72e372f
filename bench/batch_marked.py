"""The batch-marked send path, for the reminder benchmark only: the peer of the per-message record.

This is ``reminders/services/send.py`` as it was before each message got its own transaction
(commit 2f3d41d), its code unchanged, with a Celery task added. A batch's rows are locked
with ``SELECT ... FOR UPDATE`` in one transaction, every message is sent, and the sent rows are
marked in one statement at the end (``_mark_sent``, ``UPDATE ... FROM (VALUES ...)``); no lease
is renewed. The service's path now locks, sends and records each message in a short transaction
of its own and renews the lease between messages, which is safer (a dropped database re-sends at
most one message, not a batch) and costs round trips per message: this design is measured beside
it, on the same claimed batches, so that the benchmark shows what the per-message record costs.

The worker loads it with ``--include bench.batch_marked``; the sweep's batches reach it through
``enqueue_batch_marked`` instead of ``reminders.tasks.enqueue_send_batch``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from reminders.channels import Channels, DeliveryError, Outgoing
from reminders.messages import ForbiddenContent, render
from reminders.models import Reminder
from reminders.services.checks import BatchFacts, Verdict, message_context, recipient_address, verdict
from reminders.services.outbox import last_session_starts

# The service's result and outcome rules (cancel, skip, defer, retry, fail): the two paths differ
# only in how they lock, send and mark.
from reminders.services.send import BatchResult, _decide, _fail, _retry
from sessions.selectors import booked_window_ids
from sessions.services.common import now_or

logger = logging.getLogger(__name__)


Status = Reminder.Status


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
        facts = BatchFacts(
            booked_windows=booked_window_ids([r.window_id for r in rows if r.window_id]),
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


def _process(row: Reminder, *, now: dt.datetime, facts: BatchFacts, channels: Channels, result: BatchResult) -> None:
    decision, reason = verdict(row, now=now, facts=facts)
    if decision == Verdict.SEND:
        _send(row, now=now, channels=channels, result=result)
    else:
        _decide(row, decision, reason, now=now, result=result)
    if row.status != Status.CLAIMED:
        row.claim_token, row.lease_until = None, None


def _send(row: Reminder, *, now: dt.datetime, channels: Channels, result: BatchResult) -> None:
    try:
        message = render(row.kind, row.channel, message_context(row))
        outgoing = Outgoing(row.pk, row.channel, recipient_address(row), message.subject, message.body)
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


def enqueue_batch_marked(reminder_ids: list[int], claim_token: str) -> None:
    """Hand one claimed batch to the batch-marked path (the sweep's ``enqueue``)."""
    reminders_send_batch_marked.delay(reminder_ids, claim_token)


@shared_task(name="bench.reminders_send_batch_marked")
def reminders_send_batch_marked(reminder_ids: list[int], claim_token: str) -> dict[str, int]:
    """The service's ``sessions.reminders_send_batch`` task, on the batch-marked path."""
    return asdict(reminders_send_batch(reminder_ids=reminder_ids, claim_token=claim_token))
