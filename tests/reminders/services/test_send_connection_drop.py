"""A database connection that drops right after the provider accepted a message: the message is
recorded through a new connection before anything else is sent, and never sent again."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from reminders.channels import Channels, Outgoing
from reminders.models import Reminder
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from tests.reminders.reminder_data import due_session_reminders
from tests.reminders.services.outbox_data import delivered

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Status = Reminder.Status


def terminate_own_connection() -> None:
    """End this process's database session from another connection, as a failover would."""
    pid = connection.connection.info.backend_pid
    cfg = connection.settings_dict
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname=cfg["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


class DroppingAfter(Channels):
    """Delivers, then drops the database connection right after the provider accepted ``victim``."""

    def __init__(self, victim: int) -> None:
        super().__init__()
        self.victim = victim
        self.keys: list[str] = []

    def deliver(self, outgoing: Outgoing) -> str:
        message_id = super().deliver(outgoing)
        self.keys.append(outgoing.idempotency_key)
        if outgoing.reminder_id == self.victim:
            terminate_own_connection()
        return message_id


def test_a_message_accepted_before_the_connection_dropped_is_recorded_and_not_sent_again(
    _sms_to_files: Path, caplog: pytest.LogCaptureFixture
):
    if connection.vendor != "postgresql":
        pytest.fail("this test drops a PostgreSQL connection: set DATABASE_URL=postgres://...")
    now = timezone.now()
    ids = due_session_reminders(3, now=now)
    ((token, claimed),) = reminders_sweep(now=now, enqueue=lambda i, t: None).batches
    channels = DroppingAfter(victim=ids[1])

    with caplog.at_level(logging.WARNING, logger="reminders.services.send"):
        result = reminders_send_batch(reminder_ids=claimed, claim_token=token, channels=channels)

    assert result.sent == 3 and result.unrecorded == 0
    assert channels.keys == [f"reminder-{i}" for i in ids]  # each handed over once
    files = delivered(_sms_to_files)
    for row in Reminder.objects.filter(pk__in=ids):
        assert row.status == Status.SENT
        assert row.provider_message_id == files[f"reminder-{row.pk}"]["message_id"]
    assert any(f"accepted reminder {ids[1]}; recording it" in r.getMessage() for r in caplog.records)
    assert reminders_sweep(now=now, enqueue=lambda i, t: None).claimed == 0
