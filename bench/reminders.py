"""Reminder dispatch: 10,000 reminders due at once, through the real Redis and a real worker.

Three designs, measured in the same run on the same machine, in turns, with the same data and the
same worker (``celery -A ketaminecare worker`` with its default concurrency, one process per CPU,
the file SMS backend):

- ``batched``: the service's design. One sweep claims every due row in batches
  (``REMINDER_BATCH_SIZE``, select-for-update skip-locked, a lease) and publishes one task per
  batch; the task records each message as soon as the provider answers, in one statement that
  also takes the next row (claimed to sending), committed before the next message goes, and
  renews the batch's lease between messages (reminders/services/send.py).
- ``batch-marked``: the same sweep and the same claimed batches, sent by the previous send path:
  the batch's rows locked in one transaction, every message sent, and all the sent rows marked in
  one statement at the end (bench/batch_marked.py). It is the peer of the per-message record:
  the ratio of the two is what recording each message as it goes costs.
- ``naive``: one Celery task per reminder, published with ``apply_async``; each task claims its
  row with a conditional update and sends it through the service's send path, a batch of one
  (bench/naive_tasks.py).

For each: reminders per second from the first claim to the last row marked sent (``claimed_at``
and ``sent_at`` on the rows), the wall time from the first publish, duplicates (a reminder the
provider recorded more than once, or called more than once) and losses (a due reminder not
delivered or not marked sent), and the worker's peak memory (VmHWM of the main process and its
pool children, read from /proc before it stops), with the 1-minute load average at its start.

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
from bench.batch_marked import enqueue_batch_marked
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


DESIGNS = ("batched", "batch-marked", "naive")

# The ratios the run ends with: (design, its peer), best rate against best rate.
RATIOS = (("batched", "batch-marked"), ("batched", "naive"), ("batch-marked", "naive"))


def run(design: str, count: int, workdir: Path, broker: redis.Redis) -> dict[str, Any]:
    broker.flushdb()
    load = os.getloadavg()[0]
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
        extra_args=("--include", "bench.naive_tasks,bench.batch_marked"),
    )
    worker.start()
    try:
        started = time.monotonic()
        if design == "batched":
            reminders_sweep(enqueue=enqueue_send_batch)
        elif design == "batch-marked":
            reminders_sweep(enqueue=enqueue_batch_marked)
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
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="each round runs every design, in turn")
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"comma-separated: {', '.join(DESIGNS)}")
    args = parser.parse_args()
    designs = args.designs.split(",")
    if unknown := set(designs) - set(DESIGNS):
        parser.error(f"unknown designs: {', '.join(sorted(unknown))}")
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
            for design in designs:
                result = run(design, args.count, Path(tmp), broker)
                results.append(result)
                print(
                    f"{design:12} {result['sent']:6d}/{result['count']} sent in {result['seconds']:.2f} s "
                    f"(first claim to last sent): {result['rate']:.0f}/s; wall {result['wall']:.2f} s "
                    f"(publishing {result['publish']:.2f} s); duplicates {result['duplicate_deliveries']}, "
                    f"repeat provider calls {result['repeat_provider_calls']}, losses {result['losses']}; "
                    f"worker peak RSS {result['peak_total_mib']:.0f} MiB over {result['processes']} processes "
                    f"(main {result['peak_main_mib']:.0f} MiB); load (1 min) at start {result['load']:.2f}",
                    flush=True,
                )
    broker.flushdb()
    by_design: dict[str, list[float]] = collections.defaultdict(list)
    for result in results:
        by_design[result["design"]].append(result["rate"])
    best = {design: max(rates) for design, rates in by_design.items()}
    print("best rates: " + ", ".join(f"{design} {rate:.0f}/s" for design, rate in best.items()))
    for design, peer in RATIOS:
        if design in best and peer in best:
            rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(by_design[design], by_design[peer], strict=True))
            print(f"{design} / {peer}: {best[design] / best[peer]:.2f}x (best against best; round by round: {rounds})")


if __name__ == "__main__":
    main()
