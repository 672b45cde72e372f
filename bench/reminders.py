"""Reminder dispatch: 10,000 reminders due at once, through the real Redis and a real worker.

Two designs, measured in the same run on the same machine, with the same worker (``celery -A
ketaminecare worker`` with its default concurrency, one process per CPU) and the same send path
(render, re-check, the file SMS backend, mark sent):

- ``batched``: the service's design. One sweep claims every due row in batches
  (``REMINDER_BATCH_SIZE``, select-for-update skip-locked, a lease) and publishes one task per
  batch; a task sends its batch in one transaction.
- ``naive``: one Celery task per reminder, published with ``apply_async``; each task claims its
  row with a conditional update and sends it (bench/naive_tasks.py).

For each: reminders per second from the first claim to the last row marked sent (``claimed_at``
and ``sent_at`` on the rows), the wall time from the first publish, duplicates (a reminder the
provider recorded more than once, or called more than once) and losses (a due reminder not
delivered or not marked sent), and the worker's peak memory (VmHWM of the main process and its
pool children, read from /proc before it stops).

Run it on its own, migrated, database and its own Redis database::

    createdb -h 127.0.0.1 -U postgres h_reminders_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_reminders_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
      .venv/bin/python -m bench.reminders --migrate --count 10000 --rounds 2
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from bench import _django  # noqa: F401  (configures Django)
from reminders.models import Reminder
from reminders.services.sweep import reminders_sweep
from reminders.tasks import enqueue_send_batch
from tests.reminders.reminder_data import due_session_reminders
from tests.reminders.worker_process import WorkerProcess, database_url


def provider_calls(sms_dir: Path) -> list[tuple[str, str, str]]:
    log = sms_dir / "calls.log"
    if not log.exists():
        return []
    return [(k, m, o) for k, m, o in (line.split() for line in log.read_text().splitlines() if line.strip())]


def run(design: str, count: int, workdir: Path, broker: redis.Redis) -> dict[str, Any]:
    broker.flushdb()
    sms_dir = workdir / design / "sms"
    now = timezone.now()
    ids = due_session_reminders(count, now=now, label=f"bench-{design}-{time.time_ns()}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REMINDER_SMS_BACKEND": "reminders.channels.FileSMSBackend",
        "REMINDER_SMS_DIR": str(sms_dir),
    }
    worker = WorkerProcess(
        env=env,
        log=workdir / design / "worker.log",
        name=f"bench-{design}",
        extra_args=("--include", "bench.naive_tasks"),
    )
    worker.start()
    try:
        started = time.monotonic()
        if design == "batched":
            reminders_sweep(enqueue=enqueue_send_batch)
        else:
            from bench.naive_tasks import naive_send_one

            for reminder_id in ids:
                naive_send_one.apply_async((reminder_id,))
        published = time.monotonic() - started
        rows = Reminder.objects.filter(pk__in=ids)
        deadline = time.monotonic() + 600
        while rows.filter(status=Reminder.Status.SENT).count() < count and time.monotonic() < deadline:
            time.sleep(0.05)
        wall = time.monotonic() - started
        peaks = worker.peak_rss_kib()
    finally:
        worker.stop()
    span = rows.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    sent = rows.filter(status=Reminder.Status.SENT).count()
    calls = provider_calls(sms_dir)
    per_key = collections.Counter(key for key, _, _ in calls)
    new_per_key = collections.Counter(key for key, _, outcome in calls if outcome == "new")
    delivered = {p.stem for p in (sms_dir / "delivered").glob("reminder-*.json")}
    expected = {f"reminder-{i}" for i in ids}
    seconds = (span["last"] - span["first"]).total_seconds() if span["last"] and span["first"] else float("nan")
    return {
        "design": design,
        "count": count,
        "sent": sent,
        "seconds": seconds,
        "rate": sent / seconds if seconds else float("nan"),
        "wall": wall,
        "publish": published,
        "duplicate_deliveries": sum(n - 1 for n in new_per_key.values() if n > 1),
        "repeat_provider_calls": sum(n - 1 for n in per_key.values() if n > 1),
        "losses": len(expected - delivered) + (count - sent),
        "peak_main_mib": peaks.get(worker.process.pid if worker.process else 0, 0) / 1024,
        "peak_total_mib": sum(peaks.values()) / 1024,
        "processes": len(peaks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="each round runs both designs, in turn")
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--designs", default="batched,naive", help="comma-separated: batched, naive")
    args = parser.parse_args()
    if not str(settings.CELERY_BROKER_URL).startswith("redis://"):
        raise SystemExit("set REDIS_URL=redis://... (this benchmark measures the real Redis)")
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL=postgres://... (the worker shares the database)")
    if args.migrate:
        call_command("migrate", verbosity=0)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} CPU, {cpu}, Python {platform.python_version()}")
    print(f"batch size {settings.REMINDER_BATCH_SIZE}; worker concurrency: default ({os.cpu_count()} processes)")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        for _ in range(args.rounds):
            for design in args.designs.split(","):
                result = run(design, args.count, Path(tmp), broker)
                results.append(result)
                print(
                    f"{design:8} {result['sent']:6d}/{result['count']} sent in {result['seconds']:.2f} s "
                    f"(first claim to last sent): {result['rate']:.0f}/s; wall {result['wall']:.2f} s "
                    f"(publishing {result['publish']:.2f} s); duplicates {result['duplicate_deliveries']}, "
                    f"repeat provider calls {result['repeat_provider_calls']}, losses {result['losses']}; "
                    f"worker peak RSS {result['peak_total_mib']:.0f} MiB over {result['processes']} processes "
                    f"(main {result['peak_main_mib']:.0f} MiB)",
                    flush=True,
                )
    broker.flushdb()
    by_design: dict[str, list[float]] = collections.defaultdict(list)
    for result in results:
        by_design[result["design"]].append(result["rate"])
    if by_design["batched"] and by_design["naive"]:
        batched, naive = max(by_design["batched"]), max(by_design["naive"])
        print(f"best rates: batched {batched:.0f}/s, naive {naive:.0f}/s, ratio {batched / naive:.1f}x")


if __name__ == "__main__":
    main()
