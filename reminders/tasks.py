"""Celery tasks: thin. Each takes ids, calls one service, and is harmless when it runs twice.

The task names are on the wire (beat's schedule, messages in flight during a deploy): they keep
the names they had before the reminders had an app of their own.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from reminders.services.send import reminders_send_batch as send_batch
from reminders.services.sweep import reminders_sweep as sweep


def enqueue_send_batch(reminder_ids: list[int], claim_token: str) -> None:
    """Hand one claimed batch to a worker (the sweep calls this after the claim commits)."""
    reminders_send_batch.delay(reminder_ids, claim_token)


@shared_task(name="sessions.reminders_sweep")
def reminders_sweep() -> dict[str, int]:
    """The periodic sweep (beat, about every minute): window moments, then due reminders."""
    result = sweep(enqueue=enqueue_send_batch)
    return {
        "windows_opened": result.windows_opened,
        "windows_alerted": result.windows_alerted,
        "windows_closed": result.windows_closed,
        "failed_leases": result.failed_leases,
        "claimed": result.claimed,
        "reclaimed": result.reclaimed,
        "batches": len(result.batches),
    }


@shared_task(name="sessions.reminders_send_batch")
def reminders_send_batch(reminder_ids: list[int], claim_token: str) -> dict[str, int]:
    """Send one claimed batch; rows no longer carrying ``claim_token`` are left alone."""
    return asdict(send_batch(reminder_ids=reminder_ids, claim_token=claim_token))
