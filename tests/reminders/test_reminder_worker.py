"""Reminders through a real Celery worker (a subprocess) and the real Redis; no eager mode.

The worker and this process share the test database (``transaction=True``: what this process
writes is committed, and the worker is given the test database's URL). These tests fail, never
skip, when Redis or PostgreSQL is missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from measures.services import measure_record
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.sweep import reminders_sweep
from reminders.tasks import enqueue_send_batch, reminders_send_batch
from sessions.models import TreatmentSession
from sessions.services.lifecycle import session_cancel
from tests import factories
from tests.reminders.reminder_data import due_session_reminders
from tests.reminders.worker_process import WorkerProcess, database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Status = Reminder.Status


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        pytest.fail("these tests need the real Redis: set REDIS_URL=redis://... (see README)")
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url}: {exc}")
    if not str(settings.CELERY_BROKER_URL).startswith("redis://"):
        pytest.fail("Celery's broker is not Redis although REDIS_URL is set")
    client.flushdb()  # this suite's own Redis database: no task left over from another test
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def sms_dir(tmp_path: Path) -> Path:
    return tmp_path / "sms"


@pytest.fixture
def start_worker(transactional_db: None, broker: redis.Redis, sms_dir: Path, tmp_path: Path) -> Iterator[Any]:
    """Start workers on the test database; every one is stopped at the end, whatever happens."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "DJANGO_SETTINGS_MODULE": "ketaminecare.settings",
        "REMINDER_SMS_BACKEND": "tests.reminders.reminder_data.SlowFileSMSBackend",
        "REMINDER_SMS_DIR": str(sms_dir),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    started: list[WorkerProcess] = []

    def start(concurrency: int | None = None) -> WorkerProcess:
        worker = WorkerProcess(env=env, log=tmp_path / "worker.log", concurrency=concurrency)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 60) -> None:
    """Poll until ``condition`` holds; fail (naming ``what``) if it never does. Not a timing test:
    the deadline only keeps a broken run from hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def deliveries(sms_dir: Path) -> set[str]:
    folder = sms_dir / "delivered"
    return {p.stem for p in folder.glob("reminder-*.json")} if folder.exists() else set()


def provider_calls(sms_dir: Path) -> list[tuple[str, str, str]]:
    log = sms_dir / "calls.log"
    if not log.exists():
        return []
    return [(k, m, o) for k, m, o in (line.split() for line in log.read_text().splitlines() if line.strip())]


def sent_count(ids: list[int]) -> int:
    return Reminder.objects.filter(pk__in=ids, status=Status.SENT).count()


def test_due_reminders_are_delivered_once_through_the_worker(start_worker, sms_dir):
    ids = due_session_reminders(30, now=timezone.now())
    start_worker()

    result = reminders_sweep(
        enqueue=enqueue_send_batch
    )  # publishes one task per batch to Redis after each claim commits

    assert result.claimed == 30
    wait_for(lambda: sent_count(ids) == 30, what="30 reminders sent")
    rows = Reminder.objects.filter(pk__in=ids)
    assert deliveries(sms_dir) == {f"reminder-{i}" for i in ids}
    calls = provider_calls(sms_dir)
    assert len(calls) == 30
    by_key = {key: message_id for key, message_id, _ in calls}
    for row in rows:
        assert row.provider_message_id == by_key[f"reminder-{row.pk}"]
        assert row.attempts == 1
    assert reminders_sweep(enqueue=enqueue_send_batch).claimed == 0


def test_the_same_reminder_enqueued_twice_is_delivered_once(start_worker, sms_dir):
    now = timezone.now()
    (first,) = due_session_reminders(1, now=now, label="twice")
    claim = reminders_sweep(now=now, enqueue=enqueue_send_batch)
    ((token, ids),) = claim.batches
    reminders_send_batch.delay(ids, token)  # the same batch again, twice: a redelivered message
    reminders_send_batch.delay(ids, token)
    (sentinel,) = due_session_reminders(1, now=now, label="sentinel")
    reminders_sweep(now=now, enqueue=enqueue_send_batch)

    # One process takes the queue in order: once the sentinel is sent, the copies have run.
    start_worker(concurrency=1)

    wait_for(lambda: sent_count([sentinel]) == 1, what="the sentinel reminder sent")
    assert Reminder.objects.get(pk=first).status == Status.SENT
    keys = [key for key, _, _ in provider_calls(sms_dir)]
    assert keys.count(f"reminder-{first}") == 1  # the provider was called once, not three times
    assert deliveries(sms_dir) == {f"reminder-{first}", f"reminder-{sentinel}"}


def test_a_session_cancelled_after_its_task_was_enqueued_gets_no_message(start_worker, sms_dir):
    now = timezone.now()
    cancelled_id, kept_id = due_session_reminders(2, now=now)
    claim = reminders_sweep(now=now, enqueue=enqueue_send_batch)
    assert [ids for _, ids in claim.batches] == [[cancelled_id, kept_id]]  # one task, in Redis
    session = Reminder.objects.get(pk=cancelled_id).session
    assert session is not None

    session_cancel(session_id=session.pk, reason="The patient called", now=now)
    start_worker(concurrency=1)

    wait_for(lambda: sent_count([kept_id]) == 1, what="the other reminder of the batch sent")
    row = Reminder.objects.get(pk=cancelled_id)
    assert row.status == Status.CANCELLED
    assert TreatmentSession.objects.get(pk=session.pk).status == TreatmentSession.Status.CANCELLED
    assert f"reminder-{cancelled_id}" not in deliveries(sms_dir)
    assert f"reminder-{cancelled_id}" not in {key for key, _, _ in provider_calls(sms_dir)}


def test_a_phq9_item_9_alert_reaches_every_clinician_through_the_worker(start_worker, sms_dir, tmp_path):
    clinic = factories.clinic(clinicians=2)
    for number, member in enumerate(clinic.clinicians):
        member.phone = f"+1777000{number:04d}"
        member.save()
    patient = factories.screened_patient(clinician=clinic.clinicians[0])  # no course: every clinician
    recorded = measure_record(
        patient=patient, instrument="phq9", answers=[0, 1, 0, 0, 0, 0, 0, 0, 1], entered_by=None, now=timezone.now()
    )
    rows = list(Reminder.objects.filter(alert=recorded.alert, kind=ReminderKind.MEASURE_ALERT))
    assert {(r.staff_id, r.channel) for r in rows} == {
        (member.pk, channel) for member in clinic.clinicians for channel in (Channel.SMS, Channel.EMAIL)
    }
    ids = [r.pk for r in rows]
    start_worker()

    result = reminders_sweep(enqueue=enqueue_send_batch)

    assert result.claimed == 4
    wait_for(lambda: sent_count(ids) == 4, what="the alert sent to both clinicians on both channels")
    sms_ids = {f"reminder-{r.pk}" for r in rows if r.channel == Channel.SMS}
    assert deliveries(sms_dir) == sms_ids
    assert {key for key, _, _ in provider_calls(sms_dir)} == sms_ids
    mail = [path.read_text() for path in (tmp_path / "mail").glob("*.log")]
    recipients = {member.user.email for member in clinic.clinicians}
    assert {address for address in recipients if any(f"To: {address}" in text for text in mail)} == recipients
    assert reminders_sweep(enqueue=enqueue_send_batch).claimed == 0
