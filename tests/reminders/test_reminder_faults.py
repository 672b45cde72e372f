"""Reminders through faults, with real processes: a Redis server of this test's own (never the
shared one), a Celery worker and beat from the runtime environment, and the test database.

Each test injects one fault in the middle of a burst of due reminders and then counts, per
reminder, what reached the SMS and email backends:

- the database connections dropped mid-batch: nothing sent twice, by SMS or by email;
- the broker flushed mid-burst: every reminder sent within about a sweep period plus the lease;
- a worker killed while a message is with the provider: no email sent twice;
- a batch that takes longer than its lease, with its worker alive: never claimed by another;
- the broker down: beat says so in one line per tick, with no traceback.

The periods are short (a 1 s sweep, a 3 s lease) so that the faults and their recovery fit in
seconds; the deadlines only keep a broken run from hanging.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from reminders.models import Channel, Reminder
from tests.e2e.evidence import emails_by_key, sms_calls, sms_delivered
from tests.e2e.topology import Service, free_port, tail, wait_for
from tests.reminders.reminder_data import due_session_reminders
from tests.reminders.worker_process import WorkerProcess, database_url
from tests.runtime import runtime_bin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Status = Reminder.Status
SWEEP_SECONDS = 1
LEASE_SECONDS = 3


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=2)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("these tests start a Redis server of their own: install redis-server (see README)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = OwnRedis(port, process)
    wait_for(lambda: _pings(server), what="the test's own Redis to answer", timeout=20)
    yield server
    process.kill()
    process.wait(timeout=10)


def _pings(server: OwnRedis) -> bool:
    try:
        return bool(server.client().ping())
    except redis.RedisError:
        return False


@dataclass
class Outbox:
    """The worker side of the outbox: beat and workers on the test's own Redis."""

    env: dict[str, str]
    logs: Path
    sms_dir: Path
    mail_dir: Path
    workers: list[WorkerProcess]
    beat: Service | None = None

    def start_worker(self, concurrency: int = 2, **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            env={**self.env, **env},
            log=self.logs / f"worker-{len(self.workers)}.log",
            concurrency=concurrency,
            name=f"faults-{len(self.workers)}",
        )
        self.workers.append(worker)
        worker.start()
        return worker

    def start_beat(self) -> Service:
        self.beat = Service(
            "beat",
            [runtime_bin("celery"), "-A", "ketaminecare", "beat", "-l", "info", "-s", str(self.logs / "schedule")],
            env=self.env,
            log=self.logs / "beat.log",
        )
        self.beat.start()
        return self.beat

    def text(self) -> str:
        return "\n".join(f"--- {p.name}\n{tail(p, 60)}" for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def outbox(transactional_db: None, own_redis: OwnRedis, tmp_path: Path, settings) -> Iterator[Outbox]:
    settings.REMINDER_LEASE_SECONDS = LEASE_SECONDS
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ketaminecare.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": own_redis.url,
        "REMINDER_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
        "REMINDER_SEND_TIMEOUT_SECONDS": "1",
        "REMINDER_BATCH_SIZE": "25",
        "REMINDER_SMS_BACKEND": "tests.e2e.providers.SlowFileSMSBackend",
        "REMINDER_SMS_DIR": str(tmp_path / "sms"),
        "EMAIL_BACKEND": "tests.e2e.providers.SlowFileEmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "TEST_PROVIDER_LATENCY": "0.01",
    }
    world = Outbox(env, logs, tmp_path / "sms", tmp_path / "mail", [])
    try:
        yield world
    finally:
        for worker in world.workers:
            worker.stop()
        if world.beat is not None:
            world.beat.stop()


def burst(count: int, label: str) -> list[int]:
    """``count`` due reminders, half by SMS and half by email."""
    now = timezone.now()
    half = count // 2
    return due_session_reminders(half, now=now, channel=Channel.SMS, label=f"{label}sms") + due_session_reminders(
        count - half, now=now, channel=Channel.EMAIL, label=f"{label}mail"
    )


def sent_count(ids: list[int]) -> int:
    return Reminder.objects.filter(pk__in=ids, status=Status.SENT).count()


def reclaims(ids: list[int]) -> int:
    return Reminder.objects.filter(pk__in=ids).aggregate(n=Sum("lease_expiries"))["n"] or 0


@dataclass(frozen=True)
class Reached:
    """What reached the backends, per reminder key."""

    sms_new: collections.Counter[str]  # deliveries the SMS provider made (not repeats it absorbed)
    sms_calls: collections.Counter[str]  # every call, repeats included
    emails: collections.Counter[str]

    def twice(self) -> dict[str, int]:
        return {k: n for k, n in (self.sms_new + self.emails).items() if n > 1}


def reached(world: Outbox) -> Reached:
    calls = sms_calls(world.sms_dir)
    return Reached(
        sms_new=collections.Counter(key for key, _, outcome in calls if outcome == "new"),
        sms_calls=collections.Counter(key for key, _, _ in calls),
        emails=emails_by_key(world.mail_dir),
    )


def assert_each_sent_once(world: Outbox, ids: list[int]) -> Reached:
    rows = list(Reminder.objects.filter(pk__in=ids))
    assert {r.status for r in rows} == {Status.SENT}
    seen = reached(world)
    keys = {f"reminder-{r.pk}" for r in rows}
    assert set(seen.sms_new) | set(seen.emails) == keys, "a reminder marked sent never reached a backend"
    assert sms_delivered(world.sms_dir) == set(seen.sms_new)
    assert seen.twice() == {}, f"sent twice: {seen.twice()}"
    return seen


def test_a_database_drop_mid_batch_sends_nothing_twice(outbox: Outbox, capsys):
    ids = burst(400, "drop")
    outbox.start_worker(concurrency=2)
    outbox.start_beat()

    wait_for(lambda: sent_count(ids) >= 100, what="a quarter of the burst sent", timeout=60, logs=outbox.text)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (terminated,) = cursor.fetchone()
    at_drop = sent_count(ids)
    assert terminated >= 1, "no worker connection to drop"
    assert at_drop < len(ids), "the burst was over before the drop: nothing was tested"

    wait_for(lambda: sent_count(ids) == len(ids), what="every reminder sent", timeout=90, logs=outbox.text)
    seen = assert_each_sent_once(outbox, ids)
    with capsys.disabled():
        print(
            f"\n[database drop] {len(ids)} reminders; {terminated} connections terminated with {at_drop} sent; "
            f"{sum(seen.sms_calls.values()) - len(seen.sms_new)} repeat SMS calls absorbed; 0 sent twice."
        )


def test_a_flushed_broker_is_recovered_within_a_sweep_and_a_lease(outbox: Outbox, own_redis: OwnRedis, capsys):
    ids = burst(400, "flush")
    outbox.start_worker(concurrency=2)
    outbox.start_beat()

    wait_for(lambda: sent_count(ids) >= 100, what="a quarter of the burst sent", timeout=60, logs=outbox.text)
    own_redis.client().flushall()
    flushed, at_flush = time.monotonic(), sent_count(ids)
    assert at_flush < len(ids), "the burst was over before the flush: nothing was tested"

    wait_for(lambda: sent_count(ids) == len(ids), what="every reminder sent", timeout=60, logs=outbox.text)
    recovered = time.monotonic() - flushed
    assert_each_sent_once(outbox, ids)
    # The batches the flush lost were claimed again once their lease ran out, and said so.
    again = reclaims(ids)
    if again:
        assert "claimed again after their lease" in outbox.text(), outbox.text()
    with capsys.disabled():
        print(
            f"\n[broker flush] {len(ids)} reminders; {at_flush} sent at the flush; {again} claimed again after "
            f"the lease; all sent {recovered:.1f} s after the flush (sweep {SWEEP_SECONDS} s, lease "
            f"{LEASE_SECONDS} s)."
        )


def test_a_worker_killed_while_a_message_is_with_the_provider_sends_no_email_twice(outbox: Outbox, capsys):
    ids = burst(120, "kill")
    emails = sorted(Reminder.objects.filter(pk__in=ids, channel=Channel.EMAIL).values_list("pk", flat=True))
    trapped = emails[len(emails) // 2]  # an email in the middle of a batch, others sent before it
    victim = outbox.start_worker(concurrency=1, TEST_PROVIDER_TRAP_KEY=f"reminder-{trapped}")
    outbox.start_beat()

    trap = outbox.sms_dir / "trap"
    wait_for(trap.exists, what="the worker to hang in the provider call", timeout=60, logs=outbox.text)
    victim.kill()
    at_kill = sent_count(ids)
    assert 0 < at_kill < len(ids)

    outbox.start_worker(concurrency=1)
    wait_for(lambda: sent_count(ids) == len(ids), what="every reminder sent", timeout=60, logs=outbox.text)
    seen = assert_each_sent_once(outbox, ids)
    assert seen.emails[f"reminder-{trapped}"] == 1
    assert reclaims([trapped]) >= 1  # its batch came back when the dead worker's lease ran out
    with capsys.disabled():
        print(
            f"\n[worker kill] {len(ids)} reminders; worker killed inside a provider call with {at_kill} sent; "
            f"{sum(seen.emails.values())} emails for {len(seen.emails)} reminders: none twice."
        )


def test_a_live_workers_batch_outlasting_its_lease_is_never_claimed_again(outbox: Outbox):
    # 25 messages of 0.2 s each: a batch takes 5 s, longer than the 3 s lease. The worker renews
    # the lease as it goes; beat sweeps every second and must find nothing to claim again.
    ids = due_session_reminders(50, now=timezone.now(), channel=Channel.SMS, label="heartbeat")
    outbox.start_worker(concurrency=2, TEST_PROVIDER_LATENCY="0.2")
    outbox.start_beat()

    wait_for(lambda: sent_count(ids) == len(ids), what="every reminder sent", timeout=60, logs=outbox.text)
    assert reclaims(ids) == 0
    seen = reached(outbox)
    assert seen.sms_calls == collections.Counter({f"reminder-{i}": 1 for i in ids})  # not even a repeat call


def test_beat_reports_a_broker_outage_in_one_line_per_tick(outbox: Outbox, own_redis: OwnRedis):
    beat = outbox.start_beat()
    log = outbox.logs / "beat.log"
    wait_for(lambda: log.exists() and "Sending due task" in log.read_text(), what="beat's first tick", timeout=30)
    own_redis.process.kill()
    own_redis.process.wait(timeout=10)
    time.sleep(5 * SWEEP_SECONDS)
    beat.stop()

    text = log.read_text(errors="replace")
    lines = text.splitlines()
    outage = [line for line in lines if "the broker is unreachable" in line]
    assert len(outage) >= 2, text
    assert "Traceback" not in text
    # Each failed tick is its "Sending due task" line and one line saying why it failed.
    others = [line for line in lines if "the broker is unreachable" not in line and "Sending due task" not in line]
    assert len(others) < 15, text
