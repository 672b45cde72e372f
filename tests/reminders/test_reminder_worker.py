"""Reminders through a real Celery worker (a subprocess) and the real Redis; no eager mode.

The worker and this process share the test database (``transaction=True``: what this process
writes is committed, and the worker is given the test database's URL). These tests fail, never
skip, when Redis or PostgreSQL is missing.
"""

from __future__ import annotations

import datetime as dt
import json
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
from reminders.messages import local_time_text
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.send import reminders_send_batch as send_in_this_process
from reminders.services.sweep import reminders_sweep
from reminders.tasks import enqueue_send_batch, reminders_send_batch
from sessions.models import TreatmentSession
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from sessions.services.lifecycle import session_cancel
from sessions.services.reschedule import session_reschedule
from tests import factories
from tests.conftest import CLINIC_ZONE
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


@pytest.fixture
def told_session(clinic, monday, settings, tmp_path):
    """A booked course whose booking notice was sent (here, not by the worker), so that its next
    change is news to the patient; its third session. The patient has no quiet hours."""
    patient = factories.screened_patient(
        clinician=clinic.clinicians[0], quiet_hours_start=dt.time(0), quiet_hours_end=dt.time(0)
    )
    course = course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences()
    )
    settings.REMINDER_SMS_BACKEND = "reminders.channels.FileSMSBackend"
    settings.REMINDER_SMS_DIR = tmp_path / "sms-before"
    for token, ids in reminders_sweep(enqueue=lambda ids, token: None).batches:
        send_in_this_process(reminder_ids=ids, claim_token=token)
    assert Reminder.objects.filter(kind=ReminderKind.COURSE_BOOKED, status=Status.SENT).count() == 2
    return course.sessions.order_by("starts_at")[2]


def sms_notices(sms_dir: Path, kind: str) -> list[str]:
    """The bodies of the texts the worker delivered for notices of ``kind``."""
    ids = Reminder.objects.filter(kind=kind).values_list("pk", flat=True)
    folder = sms_dir / "delivered"
    return [
        json.loads((folder / f"reminder-{pk}.json").read_text())["body"]
        for pk in ids
        if (folder / f"reminder-{pk}.json").exists()
    ]


def test_a_move_then_another_move_before_the_notice_went_delivers_one_notice_with_the_final_time(
    start_worker, sms_dir, told_session
):
    session = told_session
    middle, final = session.starts_at + dt.timedelta(hours=1), session.starts_at + dt.timedelta(hours=3)
    session_reschedule(session_id=session.pk, starts_at=middle)
    first_claim = reminders_sweep(enqueue=enqueue_send_batch)  # the first move's notices, in Redis
    assert first_claim.claimed == 2

    session_reschedule(session_id=session.pk, starts_at=final)
    start_worker(concurrency=1)
    second_claim = reminders_sweep(enqueue=enqueue_send_batch)

    final_ids = [pk for _, ids in second_claim.batches for pk in ids]
    assert len(final_ids) == 2
    # One process takes the queue in order: once the second batch is sent, the first has run.
    wait_for(lambda: sent_count(final_ids) == 2, what="the final notices sent")
    moved = Reminder.objects.filter(session=session, kind=ReminderKind.SESSION_MOVED)
    assert {(r.status, r.anchor_at) for r in moved} == {(Status.SENT, final), (Status.CANCELLED, middle)}
    (text,) = sms_notices(sms_dir, ReminderKind.SESSION_MOVED)
    assert local_time_text(final, CLINIC_ZONE) in text
    first_ids = {pk for _, ids in first_claim.batches for pk in ids}
    assert not {f"reminder-{pk}" for pk in first_ids} & {key for key, _, _ in provider_calls(sms_dir)}


def test_a_move_then_a_cancel_before_the_notice_went_delivers_only_the_cancel(start_worker, sms_dir, told_session):
    session = told_session
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=2))
    first_claim = reminders_sweep(enqueue=enqueue_send_batch)
    assert first_claim.claimed == 2

    session_cancel(session_id=session.pk, reason="The patient called")
    start_worker(concurrency=1)
    second_claim = reminders_sweep(enqueue=enqueue_send_batch)

    cancel_ids = [pk for _, ids in second_claim.batches for pk in ids]
    assert len(cancel_ids) == 2
    wait_for(lambda: sent_count(cancel_ids) == 2, what="the cancel notices sent")
    assert sms_notices(sms_dir, ReminderKind.SESSION_MOVED) == []
    (text,) = sms_notices(sms_dir, ReminderKind.SESSION_CANCELLED)
    assert "cancelled" in text
    assert not Reminder.objects.filter(kind=ReminderKind.SESSION_MOVED, status=Status.SENT).exists()


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
