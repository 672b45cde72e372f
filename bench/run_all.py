"""Every benchmark of the project in one run, on a year-size clinic of its own: bench/RESULTS.md.

    .venv/bin/python -m bench.run_all            # the full run (ten to twelve minutes): rewrites bench/RESULTS.md
    .venv/bin/python -m bench.run_all --quick    # a smaller run (a few minutes): bench/out/RESULTS-quick.md

It needs PostgreSQL (``DATABASE_URL`` names the server, default
``postgres://postgres@127.0.0.1:5432/postgres``; that database is not touched), Redis
(``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/5``: a database number nothing else uses, it is
emptied; ``REDIS_URL`` is ignored), and
``wrk`` and ``pgbench`` on the PATH. In order, each figure beside its peer or floor measured in
the same run:

1. a year-size clinic (``bench.generate``: 12 chairs, 18 clinicians, 6 therapists, 3,000
   patients, 20,000 sessions with their windows and appointments, then 60,000 reminders) in its
   own database (``--database``, dropped and created; dropped at the end unless ``--keep``);
2. the calendar for a month, whole clinic and one therapist, and a clinician's feed, in-process
   beside the raw SQL + orjson floor and the nested-serializer baseline (``bench.calendar.run``);
3. gunicorn started with gunicorn.conf.py (DEBUG off, ``bench.settings``: the product's URLs plus
   one constant view, bench/urls.py), and wrk at 8 and 32 connections: one therapist's week of
   calendar against the constant view (the framework's ceiling);
4. a booking race over HTTP against that gunicorn: 64 clients, 16 chair slots; then pgbench with
   8 clients running a booking's INSERT against the same constraints (bench/booking_insert.pgbench);
5. a web worker's memory over 1,000 month-calendar requests (one worker, never recycled);
6. reminder dispatch, batched against naive (``bench.reminders.run``, a real worker and Redis);
7. course planning at 1,000, 10,000 and 100,000 booked sessions (``bench.plan_course``, in a
   subprocess on its own database, ``<database>_plan``).

A step that fails is reported as failed in RESULTS.md and the run goes on. Every process it
starts (gunicorn, the Celery workers, pgbench, wrk) is stopped before it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.plan_course import REFUSED_NAMES, _recreate, _server_url
from bench.quiet import wait_for_quiet
from tests.e2e.topology import Service, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
QUICK_RESULTS = ROOT / "bench" / "out" / "RESULTS-quick.md"
PGBENCH_SCRIPT = ROOT / "bench" / "booking_insert.pgbench"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START = dt.date(2031, 1, 6)  # the generated clinic's first Monday (far from today: no reminder is due)
MONTH = "2031-06"  # the calendar's month, inside the generated year
FEED_NOW = dt.date(2031, 2, 1)  # the feed's "today"
SECRET = "benchmark-only-secret-key-not-for-any-deployment"
ACTIVE = "('scheduled', 'checked_in', 'completed')"
OVERLAPS = """
SELECT count(*) FROM treatment_sessions_treatmentsession a
JOIN treatment_sessions_treatmentsession b
  ON a.id < b.id AND a.{column} = b.{column}
 AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
WHERE a.status IN {active} AND b.status IN {active}
"""
# The same question for many rows of one chair, clinician or patient (pgbench writes tens of
# thousands), in one sort instead of a quadratic join: sorted by start, any two intervals that
# intersect imply that some interval intersects the one that follows it.
OVERLAPS_SORTED = """
SELECT count(*) FROM (
  SELECT starts_at, lag(ends_at) OVER (PARTITION BY {column} ORDER BY starts_at, id) AS previous_end
  FROM treatment_sessions_treatmentsession WHERE status IN {active} AND {where}
) s WHERE previous_end > starts_at
"""


@dataclass(frozen=True)
class Scale:
    sessions: int
    patients: int
    reminders: int
    calendar_repeat: int
    calendar_warmup: int
    wrk_seconds: int
    memory_requests: int
    memory_samples: tuple[int, ...]
    pgbench_seconds: int
    dispatch_count: int
    plan_sizes: tuple[int, ...]
    plan_runs: int


FULL = Scale(
    sessions=20000,
    patients=3000,
    reminders=60000,
    calendar_repeat=50,
    calendar_warmup=5,
    wrk_seconds=15,
    memory_requests=1000,
    memory_samples=(1, 10, 50, 100, 250, 500, 750, 1000),
    pgbench_seconds=15,
    dispatch_count=10000,
    plan_sizes=(1000, 10000, 100000),
    plan_runs=50,
)
QUICK = Scale(
    sessions=5000,
    patients=1000,
    reminders=15000,
    calendar_repeat=10,
    calendar_warmup=2,
    wrk_seconds=4,
    memory_requests=200,
    memory_samples=(1, 10, 50, 100, 150, 200),
    pgbench_seconds=4,
    dispatch_count=1000,
    plan_sizes=(1000, 10000),
    plan_runs=10,
)
RACE_CLIENTS = 64
RACE_SLOTS = 16
PGBENCH_CLIENTS = 8


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def load1() -> float:
    return os.getloadavg()[0]


OTHER_WORK = ("pytest", "celery", "gunicorn", "manage.py", "mypy", "ruff", "bench.", "pgbench", "wrk")


def other_work() -> str:
    """Test, web, worker and benchmark processes on the machine that this run did not start,
    counted by kind from their command lines ("none" when there are none)."""
    procs: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        procs[int(entry.name)] = (ppid, cmd)
    ours = {os.getpid()}
    pid = os.getpid()
    while pid in procs and procs[pid][0] > 1:  # the shell that started this run
        pid = procs[pid][0]
        ours.add(pid)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in procs.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                grew = True
    kinds: Counter[str] = Counter()
    for pid, (_, cmd) in procs.items():
        if pid not in ours:
            kind = next((k for k in OTHER_WORK if k in cmd), None)
            if kind:
                kinds[kind.rstrip(".")] += 1
    return ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"


# ---------------------------------------------------------------------------------------------
# The machine


def _first(path: str, prefix: str) -> str:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip('"')
    return "unknown"


def _version(command: list[str], pattern: str) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except OSError:
        return "not installed"
    found = re.search(pattern, out.stdout + out.stderr)
    return found.group(1) if found else "unknown"


def machine() -> dict[str, str]:
    mem_kib = _first("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kib.split()[0]) / 1024 / 1024:.1f} GiB" if mem_kib != "unknown" else "unknown"
    return {
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{_first('/etc/os-release', 'PRETTY_NAME=')}, Linux {platform.release()}",
        "python": platform.python_version(),
        "wrk": _version(["wrk", "--version"], r"wrk (\S+)"),
        "pgbench": _version(["pgbench", "--version"], r"pgbench \(PostgreSQL\) ([\w.]+)"),
    }


# ---------------------------------------------------------------------------------------------
# Processes


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (from status) and the private part of the RSS (from smaps_rollup), in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1])
    private = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                private += int(line.split()[1])
    out["Private"] = private
    return out


class Gunicorn(Service):
    """gunicorn -c gunicorn.conf.py ketaminecare.wsgi on a free port, in its own process group
    (the end-to-end test's Service), ready once /health/ answers 200."""

    def __init__(self, *, env: dict[str, str], log_path: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        super().__init__(
            "web",
            [str(GUNICORN), "-c", "gunicorn.conf.py", "ketaminecare.wsgi"],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", **(extra_env or {})},
            log=log_path,
        )

    def __enter__(self) -> Gunicorn:
        self.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"gunicorn exited: see {self.log}")
            with contextlib.suppress(OSError):
                status, _ = request("GET", self.port, "/health/")
                if status == 200:
                    return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /health/ in 60 s: see {self.log}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def stop(self, grace: float = 35) -> None:
        """Longer than gunicorn's graceful timeout (30 s), so workers finish what they serve."""
        super().stop(grace=grace)


def request(
    method: str, port: int, path: str, *, token: str | None = None, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The steps. Each returns a dict of figures; the report is written from them at the end.


def step_generate(scale: Scale) -> dict[str, Any]:
    from django.core.management import call_command

    from bench.generate import build_reminders, build_year_clinic

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    clinic = build_year_clinic(start=START, seed=1, sessions=scale.sessions, patients=scale.patients)
    reminders = build_reminders(count=scale.reminders, as_of=dt.date.fromisoformat(clinic["as_of"]), seed=1)
    return {"clinic": clinic, "reminders": reminders, "seconds": time.perf_counter() - began}


def step_calendar(scale: Scale) -> dict[str, Any]:
    from django.conf import settings

    from bench import calendar
    from sessions.selectors import clinic_zone

    saved = settings.ROOT_URLCONF, list(settings.ALLOWED_HOSTS)
    settings.ROOT_URLCONF = calendar.urlconf  # the floor and baseline views
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        now = dt.datetime.combine(FEED_NOW, dt.time(12), tzinfo=clinic_zone()).astimezone(dt.UTC)
        results = calendar.run(month=MONTH, now=now, repeat=scale.calendar_repeat, warmup=scale.calendar_warmup)
    finally:
        settings.ROOT_URLCONF, settings.ALLOWED_HOSTS = saved
    return {"results": results, "ratios": calendar.ratios(results)}


def _people() -> dict[str, Any]:
    from django.db.models import Count

    from accounts.services import token_issue
    from clinic.models import StaffMember
    from ketaminecare.roles import Role

    desk = StaffMember.objects.filter(role=Role.FRONT_DESK).select_related("user").order_by("id").first()
    therapist = (
        StaffMember.objects.filter(role=Role.THERAPIST)
        .annotate(n=Count("integration_appointments"))
        .order_by("-n", "id")
        .select_related("user")
        .first()
    )
    assert desk is not None and therapist is not None
    return {
        "desk_token": token_issue(user=desk.user).key,
        "therapist_token": token_issue(user=therapist.user).key,
        "therapist_id": therapist.pk,
    }


def _week_path(therapist_id: int) -> tuple[str, str]:
    from sessions.selectors import clinic_zone

    year, month = (int(x) for x in MONTH.split("-"))
    first = dt.date(year, month, 1)
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    zone = clinic_zone()
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    query = urlencode({"start": start.isoformat(), "end": end.isoformat(), "therapist": therapist_id})
    return f"/api/v1/calendar/?{query}", f"{monday} to {monday + dt.timedelta(days=7)}"


def wrk(port: int, path: str, *, connections: int, seconds: int, token: str | None) -> dict[str, Any]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "30s"]
    if token:
        command += ["-H", f"Authorization: Token {token}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout

    def find(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, out)
        return match.group(1) if match else default

    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")),
        "requests": int(find(r"(\d+) requests in")),
        "non_2xx": int(find(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": find(r"Socket errors: (.+)", "none"),
        "p50": find(r"\n\s+50%\s+(\S+)", "-"),
        "p99": find(r"\n\s+99%\s+(\S+)", "-"),
    }


def step_throughput(scale: Scale, server: Gunicorn, people: dict[str, Any]) -> dict[str, Any]:
    week, week_label = _week_path(people["therapist_id"])
    status, body = request("GET", server.port, week, token=people["therapist_token"])
    if status != 200:
        raise RuntimeError(f"the therapist's week answered {status}: {body[:300]!r}")
    events = json.loads(body)["count"]
    status, _ = request("GET", server.port, "/bench/constant/")
    if status != 200:
        raise RuntimeError(f"the constant view answered {status}")
    out: dict[str, Any] = {"week": week_label, "events": events, "bytes": len(body), "workers": len(server.workers)}
    for connections in (8, 32):
        for name, path, token in (
            ("calendar", week, people["therapist_token"]),
            ("constant", "/bench/constant/", None),
        ):
            wrk(server.port, path, connections=connections, seconds=2, token=token)  # warm-up, not counted
            out[f"{name}_{connections}"] = wrk(
                server.port, path, connections=connections, seconds=scale.wrk_seconds, token=token
            )
            out[f"{name}_{connections}"]["load"] = load1()
            log(f"  wrk {name} c{connections}: {out[f'{name}_{connections}']['rps']:.1f} req/s")
    return out


def _race_setup() -> dict[str, Any]:
    """A one-session protocol, 64 screened patients and 16 chair slots on a day past the data."""
    from django.utils import timezone

    from clinic.models import Chair, StaffMember, WorkingHours
    from courses.models import TreatmentProtocol
    from patients.models import Contraindication, Patient, Screening
    from sessions.models import TreatmentSession
    from sessions.scheduling import local_instant
    from sessions.selectors import clinic_zone

    zone = clinic_zone()
    last = TreatmentSession.objects.order_by("-local_date").values_list("local_date", flat=True).first()
    assert last is not None
    day = last + dt.timedelta(days=70)  # past the generated closures and time off
    while day.weekday() != 1:  # a Tuesday
        day += dt.timedelta(days=1)
    protocol = TreatmentProtocol.objects.create(
        name="Bench race: one session",
        route=TreatmentProtocol.Route.IV_KETAMINE,
        weekly_cadence=[1],
        induction_sessions_min=1,
        induction_sessions_max=1,
        induction_span_min_days=0,
        induction_span_max_days=0,
    )
    on_duty = list(
        WorkingHours.objects.filter(weekday=day.weekday(), staff__role="clinician", staff__is_active=True)
        .order_by("staff_id")
        .values_list("staff_id", flat=True)
    )
    chairs = list(Chair.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    assert len(on_duty) >= 4 and len(chairs) >= 4
    slots = []
    for c in range(4):  # four chairs, each staffed by its own clinician, four sessions a day each
        for hour in (8, 10, 12, 14):
            starts = local_instant(day, dt.time(hour), zone)
            assert starts is not None
            slots.append({"starts_at": starts.isoformat(), "chair": chairs[c], "clinician": on_duty[c]})
    clinician = StaffMember.objects.get(pk=on_duty[0])
    today = timezone.localdate()
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Race",
            last_name=f"Client {i + 1}",
            date_of_birth=dt.date(1985, 1, 1),
            phone=f"+1777{i:07d}",
            email=f"race{i}@example.com",
        )
        for i in range(RACE_CLIENTS)
    )
    Screening.objects.bulk_create(
        Screening(
            patient=p,
            clinician=clinician.user,
            performed_on=today,
            valid_until=day + dt.timedelta(days=30),
            contraindications_checked=list(Contraindication.values),
            informed_consent_off_label=True,
            outcome=Screening.Outcome.ELIGIBLE,
        )
        for p in patients
    )
    return {"day": day, "protocol": protocol.pk, "slots": slots, "patients": [p.pk for p in patients]}


def overlaps(where: str | None = None, params: list[Any] | None = None) -> dict[str, int]:
    """Pairs of active sessions of one chair, clinician or patient whose times intersect: the
    whole table by a self-join, or the rows ``where`` selects by the sorted check."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for column in ("chair_id", "clinician_id", "patient_id"):
            if where is None:
                cursor.execute(OVERLAPS.format(column=column, active=ACTIVE))
            else:
                cursor.execute(OVERLAPS_SORTED.format(column=column, active=ACTIVE, where=where), params)
            counts[column.removesuffix("_id")] = int(cursor.fetchone()[0])
    return counts


def step_race(server: Gunicorn, people: dict[str, Any]) -> dict[str, Any]:
    from sessions.models import TreatmentSession

    setup = _race_setup()
    slots, patients = setup["slots"], setup["patients"]
    began: list[float] = []
    barrier = threading.Barrier(len(patients), action=lambda: began.append(time.perf_counter()))
    lock = threading.Lock()
    outcomes: list[tuple[int, int, int, float]] = []  # (client, slot, status, finished at)
    failures: list[str] = []

    def client(index: int, patient: int) -> None:
        order = random.Random(index).sample(range(len(slots)), len(slots))
        try:
            barrier.wait(timeout=60)
            for slot in order:
                body = json.dumps({"patient": patient, "protocol": setup["protocol"], "sessions": [slots[slot]]})
                status, _ = request(
                    "POST", server.port, "/api/v1/courses/", token=people["desk_token"], body=body.encode()
                )
                with lock:
                    outcomes.append((index, slot, status, time.perf_counter()))
                if status == 201 or status >= 500:
                    break
        except Exception as exc:
            with lock:
                failures.append(f"client {index}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(i, p)) for i, p in enumerate(patients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    unfinished = sum(1 for thread in threads if thread.is_alive())
    finished = time.perf_counter()
    start = began[0] if began else finished
    statuses = Counter(status for _, _, status, _ in outcomes)
    wins = [(slot, at) for _, slot, status, at in outcomes if status == 201]
    booked = TreatmentSession.objects.filter(course__protocol_id=setup["protocol"]).exclude(status="cancelled")
    per_slot = Counter((s.chair_id, s.starts_at) for s in booked)
    last_win = max((at for _, at in wins), default=finished)
    return {
        "day": setup["day"].isoformat(),
        "clients": len(patients),
        "slots": len(slots),
        "requests": len(outcomes),
        "statuses": dict(sorted(statuses.items())),
        "bookings_http": len(wins),
        "bookings_db": booked.count(),
        "slots_taken": len(per_slot),
        "slots_twice": sum(1 for n in per_slot.values() if n > 1),
        "overlaps": overlaps(),
        "failures": failures,
        "unfinished": unfinished,
        "seconds_to_last_booking": last_win - start,
        "seconds_total": finished - start,
        "bookings_per_second": len(wins) / (last_win - start) if wins else 0.0,
        "requests_per_second": len(outcomes) / (finished - start),
        "workers": len(server.workers),
        "load": load1(),
    }


def step_pgbench(scale: Scale, database_url: str) -> dict[str, Any]:
    """8 pgbench clients INSERTing sessions against the same constraints; the rows are removed after."""
    from django.db import connection, transaction

    from clinic.models import Chair, StaffMember
    from courses.models import Course, TreatmentProtocol
    from patients.models import Contraindication, Patient, Screening

    clinician = StaffMember.objects.filter(role="clinician").order_by("id").first()
    protocol = TreatmentProtocol.objects.order_by("id").first()
    assert clinician is not None and protocol is not None
    with transaction.atomic():
        chair = Chair.objects.create(name="Bench pgbench chair", location="nowhere")
        patients = Patient.objects.bulk_create(
            Patient(first_name="Pgbench", last_name=f"Client {i}", date_of_birth=dt.date(1980, 1, 1))
            for i in range(PGBENCH_CLIENTS)
        )
        screenings = Screening.objects.bulk_create(
            Screening(
                patient=p,
                clinician=clinician.user,
                performed_on=dt.date(2030, 1, 1),
                valid_until=dt.date(2999, 1, 1),
                contraindications_checked=list(Contraindication.values),
                informed_consent_off_label=True,
                outcome=Screening.Outcome.ELIGIBLE,
            )
            for p in patients
        )
        courses = Course.objects.bulk_create(
            Course(patient=p, protocol=protocol, screening=s) for p, s in zip(patients, screenings, strict=True)
        )
    patient_ids, course_ids = [p.pk for p in patients], [c.pk for c in courses]
    if patient_ids != list(range(patient_ids[0], patient_ids[0] + PGBENCH_CLIENTS)) or course_ids != list(
        range(course_ids[0], course_ids[0] + PGBENCH_CLIENTS)
    ):
        raise RuntimeError("the pgbench patients or courses did not get consecutive ids")
    base = int(dt.datetime(2040, 1, 2, 15, tzinfo=dt.UTC).timestamp())
    with connection.cursor() as cursor:
        cursor.execute("DROP SEQUENCE IF EXISTS bench_pgbench_slot")
        cursor.execute("CREATE SEQUENCE bench_pgbench_slot")
    parts = urlsplit(database_url)
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    command = [
        "pgbench",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-n",
        "-c",
        str(PGBENCH_CLIENTS),
        "-j",
        "2",
        "-T",
        str(scale.pgbench_seconds),
        "-f",
        str(PGBENCH_SCRIPT),
        "-D",
        f"course0={course_ids[0]}",
        "-D",
        f"patient0={patient_ids[0]}",
        "-D",
        f"clients={PGBENCH_CLIENTS}",
        "-D",
        f"chair={chair.pk}",
        "-D",
        f"clinician={clinician.pk}",
        "-D",
        f"base={base}",
        parts.path.lstrip("/"),
    ]
    load = load1()
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=scale.pgbench_seconds + 120, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{output[-2000:]}")

    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else "0"

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM treatment_sessions_treatmentsession WHERE chair_id = %s", [chair.pk])
        rows = int(cursor.fetchone()[0])
    # Among the sessions of the chair, the clinician and the patients pgbench wrote to.
    found = overlaps(
        "(chair_id = %s OR clinician_id = %s OR patient_id = ANY(%s))", [chair.pk, clinician.pk, patient_ids]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM treatment_sessions_treatmentsession WHERE chair_id = %s", [chair.pk])
        cursor.execute("DELETE FROM courses_course WHERE id = ANY(%s)", [course_ids])
        cursor.execute("DELETE FROM courses_screening WHERE patient_id = ANY(%s)", [patient_ids])
        cursor.execute("DELETE FROM courses_patient WHERE id = ANY(%s)", [patient_ids])
        cursor.execute("DELETE FROM treatment_sessions_chair WHERE id = %s", [chair.pk])
        cursor.execute("DROP SEQUENCE bench_pgbench_slot")
    return {
        "clients": PGBENCH_CLIENTS,
        "seconds": scale.pgbench_seconds,
        "tps": float(find(r"tps = ([\d.]+) \(without initial connection time\)")),
        "transactions": int(find(r"number of transactions actually processed: (\d+)")),
        "failed": int(find(r"number of failed transactions: (\d+)")),
        "latency_ms": float(find(r"latency average = ([\d.]+) ms")),
        "rows": rows,
        "overlaps": found,
        "load": load,
    }


def _months() -> Iterator[tuple[str, str]]:
    from sessions.selectors import clinic_zone

    zone = clinic_zone()
    year = int(MONTH.split("-")[0])
    while True:
        for month in range(1, 13):
            start = dt.datetime(year, month, 1, tzinfo=zone)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
            yield start.isoformat(), end.isoformat()


def step_memory(scale: Scale, server: Gunicorn, people: dict[str, Any]) -> dict[str, Any]:
    """One worker, never recycled: the whole clinic's calendar for each month of a year in turn."""
    load_start = load1()
    workers = server.workers
    if len(workers) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {len(workers)}")
    worker = workers[0]
    samples = [{"requests": 0, **memory_kib(worker)}]
    months = _months()
    durations: list[float] = []
    events: list[int] = []
    statuses: Counter[int] = Counter()
    for n in range(1, scale.memory_requests + 1):
        start, end = next(months)
        path = "/api/v1/calendar/?" + urlencode({"start": start, "end": end})
        began = time.perf_counter()
        status, body = request("GET", server.port, path, token=people["desk_token"])
        durations.append((time.perf_counter() - began) * 1000)
        statuses[status] += 1
        if status == 200 and n <= 12:
            events.append(json.loads(body)["count"])
        if n in scale.memory_samples:
            samples.append({"requests": n, **memory_kib(worker)})
    if server.workers != [worker]:
        raise RuntimeError("the worker was replaced during the run")
    return {
        "requests": scale.memory_requests,
        "statuses": dict(statuses),
        "samples": samples,
        "median_ms": statistics.median(durations),
        "events_per_month": (min(events), max(events)) if events else (0, 0),
        "load_start": load_start,
    }


def step_dispatch(scale: Scale) -> dict[str, Any]:
    import redis
    from django.conf import settings

    from bench import reminders

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        for design in ("batched", "naive"):
            load = load1()
            out[design] = reminders.run(design, scale.dispatch_count, Path(tmp), broker)
            out[design]["load"] = load
            log(f"  {design}: {out[design]['rate']:.0f}/s")
    broker.flushdb()
    return out


def step_planning(scale: Scale, server_url: str, database: str, workdir: Path) -> dict[str, Any]:
    out_json = workdir / "plan_course.json"
    command = [
        sys.executable,
        "-m",
        "bench.plan_course",
        "--sizes",
        *(str(s) for s in scale.plan_sizes),
        "--runs",
        str(scale.plan_runs),
        "--database",
        f"{database}_plan",
        "--no-write",
        "--json",
        str(out_json),
    ]
    load = load1()
    with open(workdir / "plan_course.log", "wb") as out:
        subprocess.run(command, cwd=ROOT, env={**os.environ, "DATABASE_URL": server_url}, stdout=out, check=True)
    data = json.loads(out_json.read_text())
    data["load"] = load
    data["command"] = " ".join(["python", *command[1:-2]])
    return data


# ---------------------------------------------------------------------------------------------
# The report


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(run: dict[str, Any]) -> str:
    m, steps, scale = run["machine"], run["steps"], run["scale"]
    lines = [
        "# Benchmark results",
        "",
        "Every figure in this file was written by one run of the command below (`bench/run_all.py`);",
        "nothing was edited by hand. Each figure stands beside its peer or floor, measured in the same",
        "run on the same machine. What each benchmark does is said at the top of its module.",
        "",
        "```sh",
        run["command"],
        "```",
        "",
        f"- date: {run['began']:%Y-%m-%d %H:%M} to {run['ended']:%H:%M} UTC ({run['minutes']:.0f} minutes)",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; {m['os']}",
        f"- software: Python {m['python']}, Django {run['django']}, gunicorn {run['gunicorn']}, "
        f"Celery {run['celery']}, PostgreSQL {run['postgresql']}, Redis {run['redis']}, wrk {m['wrk']}, "
        f"pgbench {m['pgbench']}; PostgreSQL, Redis, the load generators and the servers on the same host",
        f"- load average (1, 5, 15 min) at the start: {run['load_start']}; at the end: {run['load_end']} "
        f"(on {m['cores']} cores; each step's below)",
        "- web processes: `gunicorn -c gunicorn.conf.py ketaminecare.wsgi` with DEBUG=0, SECURE_SSL_REDIRECT=0,",
        "  a SECRET_KEY and `DJANGO_SETTINGS_MODULE=bench.settings` (the product's settings and URLs plus",
        "  `/bench/constant/`, bench/urls.py); the Celery workers with DEBUG=0 too",
        "",
    ]
    lines += [
        "Each step, with the time it waited for the machine to be quiet first (CPU use of all cores under",
        "25 % over 2 s, at most 90 s: the step before leaves PostgreSQL checkpointing and vacuuming), the",
        "1-minute load average at its start and end (it lags: a busy step's load shows in the next one's",
        "start) and the other test, lint, web, worker and benchmark processes on the machine at its start",
        "and end (by command line; the run's own processes excluded). Figures taken while others ran are",
        "slower than on an idle machine.",
        "",
        "| step | seconds | waited for quiet (CPU busy then) | load at start / end | other processes at start "
        "| at end |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {name} | {seconds:.0f} | {waited:.0f} s ({busy:.0%}) | {before:.2f} / {after:.2f} | {others_before} "
        f"| {others_after} |"
        for name, seconds, waited, busy, before, after, others_before, others_after in run["activity"]
    ]
    lines.append("")
    skipped = [name for name, step in steps.items() if step.get("skipped")]
    if skipped:
        lines += [f"Skipped in this run (`--only`): {', '.join(skipped)}.", ""]
    failed = {name: step["error"] for name, step in steps.items() if "error" in step and not step.get("skipped")}
    if failed:
        lines += ["**Steps that failed in this run** (their figures are missing below):", ""]
        lines += [f"- {name}: `{error.splitlines()[-1][:300]}`" for name, error in failed.items()]
        lines.append("")

    # --- the clinic
    gen = steps["generate"]
    if "error" not in gen:
        c, r = gen["clinic"], gen["reminders"]
        statuses = ", ".join(f"{k} {v:,}" for k, v in c["sessions_by_status"].items())
        lines += [
            "## The clinic",
            "",
            f"`bench.generate.build_year_clinic(start={c['start']}, seed=1)` then `build_reminders(count="
            f"{scale.reminders})`, into the run's own database, in {gen['seconds']:.0f} s: {c['chairs']} chairs, "
            f"{c['clinicians']} clinicians, {c['therapists']} therapists, {c['patients']:,} patients, "
            f"{c['courses']:,} courses, {c['sessions']:,} sessions ({statuses}) from {c['start']} to "
            f"{c['last_day']} (the data's today: {c['as_of']}), {c['windows']:,} integration windows, "
            f"{c['appointments']:,} integration appointments, {r['reminders']:,} reminders ("
            + ", ".join(f"{k} {v:,}" for k, v in r["by_status"].items())
            + "; "
            + ", ".join(f"{k} {v:,}" for k, v in r["by_kind"].items())
            + ").",
            "",
            f'Clinicians: {c["clinicians"]}, not the issue\'s "about 10". A clinician is taken for a whole'
            " session and works four weekdays (every other one a Saturday too), so 13 or 14 of 18 are on duty"
            " on a weekday: with 10, no more than 8 of the 12 chairs could run at once, and 20,000 sessions"
            " would not fit in a year of the clinic's hours (07:00-19:00 on weekdays, 08:00-14:00 on"
            " Saturdays). The hours were kept (a clinic open longer than a clinician's working day is not"
            " a real one) and the clinicians raised to 18.",
            "",
        ]

    # --- the summary
    summary: list[tuple[str, str, str, str, str]] = []
    cal = steps["calendar"]
    if "error" not in cal:
        for scenario, label in (("clinic_month", "whole clinic"), ("therapist_month", "one therapist")):
            res = cal["results"][scenario]
            mine, floor, base = res["calendar"], res["floor (sql)"], res["baseline"]
            ratio = mine["median_ms"] / floor["median_ms"]
            summary.append(
                (
                    f"calendar, a month, {label} ({res['events']:,} events): median / p95, queries",
                    f"{mine['median_ms']} / {mine['p95_ms']} ms, {mine['queries']} queries",
                    f"floor (raw SQL + orjson): {floor['median_ms']} / {floor['p95_ms']} ms, "
                    f"{floor['queries']} queries",
                    f"{ratio:.2f}x the floor; baseline {base['median_ms'] / mine['median_ms']:.2f}x slower",
                    f"within 1.5x of the floor: {_verdict(ratio <= 1.5)}; "
                    f"baseline at least 4x slower: {_verdict(base['median_ms'] / mine['median_ms'] >= 4)}",
                )
            )
        by_range = cal["results"]["queries_by_range"]
        counts = {v["queries"] for v in by_range.values()}
        summary.append(
            (
                "calendar queries per request, 1 to 93 days",
                ", ".join(f"{k}: {v['queries']}" for k, v in by_range.items()),
                "-",
                "-",
                f"does not grow with the range: {_verdict(len(counts) == 1)}",
            )
        )
    thr = steps["throughput"]
    if "error" not in thr:
        for n in (8, 32):
            a, b = thr[f"calendar_{n}"], thr[f"constant_{n}"]
            summary.append(
                (
                    f"HTTP, a therapist's week of calendar, {n} connections",
                    f"{_f(a['rps'])} req/s",
                    f"constant Django view: {_f(b['rps'])} req/s",
                    f"{a['rps'] / b['rps']:.2f} of the ceiling",
                    "no aim set; errors: "
                    + (
                        "none"
                        if a["non_2xx"] + b["non_2xx"] == 0 and a["socket_errors"] == b["socket_errors"] == "none"
                        else "**some** (non-2xx answers or socket errors: see below)"
                    ),
                )
            )
    plan = steps["planning"]
    if "error" not in plan:
        rows = plan["results"]
        for previous, row in zip([None, *rows], rows, strict=False):
            figure = f"{_f(row['total_median_ms'])} ms (propose {_f(row['propose_median_ms'])})"
            label = (
                f"course planning, {row['summary']['sessions']:,} booked sessions "
                f"({row['sessions_in_planning_weeks']:,} in the planning weeks): ms per planned course "
                "(propose + book, median)"
            )
            if previous is None:
                summary.append((label, figure, "-", "-", "-"))
                continue
            growth = row["total_median_ms"] / previous["total_median_ms"]
            aim = f"close to flat (at most 1.5x): {_verdict(growth <= 1.5)}"
            if not comparable_density(previous, row):
                aim = (
                    "not a measure of size alone: the planning weeks hold "
                    f"{row['sessions_in_planning_weeks']:,} sessions here, "
                    f"{previous['sessions_in_planning_weeks']:,} there"
                )
            summary.append(
                (
                    label,
                    figure,
                    f"the same at {previous['summary']['sessions']:,} sessions: {_f(previous['total_median_ms'])} ms",
                    f"{growth:.2f}x",
                    aim,
                )
            )
    race, pgb = steps["race"], steps["pgbench"]
    if "error" not in race:
        overlaps_total = sum(race["overlaps"].values())
        ok = (
            race["bookings_http"] == RACE_SLOTS
            and race["bookings_db"] == RACE_SLOTS
            and overlaps_total == 0
            and set(race["statuses"]) <= {201, 409}
            and not race["failures"]
            and race["unfinished"] == 0
        )
        peer = "pgbench failed"
        if "error" not in pgb:
            peer = f"pgbench, {PGBENCH_CLIENTS} clients: {_f(pgb['tps'])} inserts/s"
        ratio = f"{race['bookings_per_second'] / pgb['tps']:.4f} of the ceiling" if "error" not in pgb else "-"
        summary.append(
            (
                f"booking race over HTTP: {RACE_CLIENTS} clients, {RACE_SLOTS} chair slots",
                f"{race['bookings_db']} bookings, {overlaps_total} overlaps, "
                f"{_f(race['bookings_per_second'])} bookings/s",
                peer,
                ratio,
                f"exactly {RACE_SLOTS} bookings, 0 overlaps, only 201 and 409 answers, every client done: "
                f"{_verdict(ok)}",
            )
        )
    disp = steps["dispatch"]
    if "error" not in disp:
        b, n = disp["batched"], disp["naive"]
        ratio_value = b["rate"] / n["rate"]
        clean = all(
            d["duplicate_deliveries"] == 0 and d["repeat_provider_calls"] == 0 and d["losses"] == 0 for d in (b, n)
        )
        summary.append(
            (
                f"reminder dispatch, {b['count']:,} due",
                f"{_f(b['rate'], 0)}/s, duplicates {b['duplicate_deliveries']}, losses {b['losses']}, "
                f"worker peak {b['peak_total_mib']:.0f} MiB",
                f"naive (a task each): {_f(n['rate'], 0)}/s, duplicates {n['duplicate_deliveries']}, "
                f"losses {n['losses']}, peak {n['peak_total_mib']:.0f} MiB",
                f"{ratio_value:.1f}x",
                f"at least 5x: {_verdict(ratio_value >= 5)}; 0 and 0: {_verdict(clean)}",
            )
        )
    mem = steps["memory"]
    if "error" not in mem:
        verdict = memory_verdict(mem)
        summary.append(
            (
                f"web worker memory over {mem['requests']:,} month-calendar requests",
                f"RSS {_mib(verdict['end']['VmRSS'])} MiB after {verdict['end']['requests']:,}",
                f"after {verdict['warm']['requests']} (warm): {_mib(verdict['warm']['VmRSS'])} MiB",
                f"{verdict['growth_mib']:+.1f} MiB after warm-up",
                "every answer 200 and no more than 2 MiB gained over the last half: "
                f"{_verdict(not verdict['grows'] and set(mem['statuses']) == {200})}",
            )
        )
    lines += [
        "## Summary",
        "",
        "| benchmark | figure | peer or floor, same run | ratio | aim |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {' | '.join(row)} |" for row in summary]
    lines.append("")

    # --- the details
    if "error" not in cal:
        from bench.calendar import table

        res = cal["results"]
        lines += [
            "## Calendar",
            "",
            f"`bench.calendar.run`: in-process through Django's test Client with token authentication (DEBUG off),"
            f" {scale.calendar_repeat} runs of each variant in turns after {scale.calendar_warmup} warm-up rounds;"
            " queries counted on one more run (the token lookup and the caller's role included). Month: "
            f"{MONTH} (the clinic's zone). `floor (sql)`: the same rows by raw SQL written with orjson, no request; "
            "`floor (http)`: that behind the same URL stack and authentication; `baseline`: nested "
            "ModelSerializers with select_related. The feed: the clinician with the most sessions, a year "
            f"from {FEED_NOW}. 1-minute load at the start: {cal['load']:.2f}.",
            "",
            table(res),
            "",
            "| ratio (medians) | figure |",
            "| --- | ---: |",
        ]
        lines += [f"| {k} | {v:.2f} |" for k, v in cal["ratios"].items()]
        lines += [
            "",
            "Queries per calendar request by range (front desk): "
            + ", ".join(f"{k} ({v['events']:,} events) {v['queries']}" for k, v in res["queries_by_range"].items())
            + ".",
            "",
        ]
    if "error" not in thr:
        lines += [
            "## HTTP throughput",
            "",
            f"wrk over loopback (2 threads, {scale.wrk_seconds} s per figure after 2 s of warm-up) against"
            f" gunicorn with gunicorn.conf.py's defaults ({thr['workers']} sync workers on {m['cores']} cores,"
            " recycled every 2,000 requests or so). `calendar`: GET /api/v1/calendar/ for one therapist's week"
            f" ({thr['week']}, `therapist=<own id>`, {thr['events']} events, {thr['bytes']:,} bytes) with the"
            " therapist's token; `constant`: GET /bench/constant/, a Django view answering a fixed body through"
            " the same middleware (the framework's ceiling here). wrk shares the cores with gunicorn and"
            " PostgreSQL.",
            "",
            "| target | connections | requests/s | requests | latency p50 | latency p99 | non-2xx | socket errors "
            "| load (1 min) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for n in (8, 32):
            for name in ("calendar", "constant"):
                w = thr[f"{name}_{n}"]
                lines.append(
                    f"| {name} | {n} | {_f(w['rps'])} | {w['requests']:,} | {w['p50']} | {w['p99']} | {w['non_2xx']} "
                    f"| {w['socket_errors']} | {w['load']:.2f} |"
                )
        lines += [
            "",
            "Calendar / constant: "
            + ", ".join(
                f"{n} connections {thr[f'calendar_{n}']['rps'] / thr[f'constant_{n}']['rps']:.2f}" for n in (8, 32)
            )
            + ".",
            "",
        ]
    if "error" not in plan:
        lines += [
            "## Course planning",
            "",
            f"`bench.plan_course` (in a subprocess, its own database, recreated for each size): `{plan['command']}`."
            " One induction course proposed (`course_propose`, the preview) then booked (`course_book`) for each of"
            " the runs' new screened patients, first dates one to eight weeks after the data's today; medians and"
            " 95th percentiles, warm-up runs excluded. Each size waits for a quiet machine after its clinic is"
            f" written (waited: {', '.join(str(r['summary'].get('quiet_wait_seconds', '-')) for r in plan['results'])}"
            f" s). 1-minute load at the start: {plan['load']:.2f}.",
            "",
            "Every size keeps the chairs about 85 % booked over the span it covers, so a small clinic's data"
            ' ends early: "in the planning weeks" counts the sessions already booked in the eleven weeks after'
            " the data's today, where the planned courses land. The planner reads the clinic's state over those"
            " weeks (the same 9 queries at every size), so its time follows how full they are; only two sizes"
            " whose planning weeks are about as full (within a quarter) measure the growth with the table's"
            ' size, and the summary judges "close to flat" on those.',
            "",
            "| sessions in the database | in the planning weeks | generated in | runs | propose median / p95 (ms) "
            "| propose queries | book median / p95 (ms) | book queries | propose + book median / p95 (ms) "
            "| vs the smallest | first date feasible |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        first = plan["results"][0]
        for row in plan["results"]:
            s = row["summary"]
            refused = ", ".join(f"{k} {v}" for k, v in row["refused_by"].items())
            lines.append(
                f"| {s['sessions']:,} | {row['sessions_in_planning_weeks']:,} | {s['seconds']:.0f} s | {row['runs']} "
                f"| {_f(row['propose_median_ms'])} / "
                f"{_f(row['propose_p95_ms'])} | {_span(row['propose_queries'])} | {_f(row['book_median_ms'])} / "
                f"{_f(row['book_p95_ms'])} | {_span(row['book_queries'])} | {_f(row['total_median_ms'])} / "
                f"{_f(row['total_p95_ms'])} | {row['total_median_ms'] / first['total_median_ms']:.2f}x "
                f"| {row['feasible_first_date']} of {row['runs']}" + (f" (else {refused})" if refused else "") + " |"
            )
        lines.append("")
    if "error" not in race:
        lines += [
            "## Booking race",
            "",
            f"Against the gunicorn above ({race['workers']} workers): a one-session protocol,"
            f" {RACE_SLOTS} chair slots on {race['day']} (4 chairs, each with its own clinician on duty,"
            f" at 08:00, 10:00, 12:00 and 14:00), and {race['clients']} clients, each with its own screened"
            " patient, released together by a barrier. Each client POSTs /api/v1/courses/ (the front"
            " desk's token, the slot as the proposal's one session) for the slots in its own random order"
            " until one answers 201 (409: taken, try the next). Bookings per second: the 201s divided by"
            " the time from the release to the last 201. Overlaps: a self-join of the whole session table"
            " on chair, clinician and patient over active sessions whose times intersect.",
            "",
            "| clients | slots | requests | answers | bookings (201) | booked rows | slots taken / twice "
            "| overlaps (chair, clinician, patient) | to the last booking | all clients done | bookings/s | requests/s "
            "| load (1 min) |",
            "| ---: | ---: | ---: | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
            f"| {race['clients']} | {race['slots']} | {race['requests']} | "
            + ", ".join(f"{k}: {v}" for k, v in race["statuses"].items())
            + f" | {race['bookings_http']} | {race['bookings_db']} | {race['slots_taken']} / {race['slots_twice']} | "
            + ", ".join(str(v) for v in race["overlaps"].values())
            + f" | {race['seconds_to_last_booking']:.2f} s | {race['seconds_total']:.2f} s | "
            f"{_f(race['bookings_per_second'], 2)} | {_f(race['requests_per_second'])} | {race['load']:.2f} |",
            "",
        ]
        if race["failures"]:
            lines += ["Client failures: " + "; ".join(race["failures"][:5]), ""]
    if "error" not in pgb:
        lines += [
            "The database's own ceiling: `pgbench -n -c 8 -j 2 -T "
            f"{pgb['seconds']} -f bench/booking_insert.pgbench` against the run's database: each transaction one"
            " INSERT of a treatment session (a fresh slot a day apart, so none conflicts) into the same table, so"
            " checked by the same exclusion constraints (chair, clinician, patient) and unique constraints."
            " Overlaps, afterwards: among the active sessions of that chair, that clinician (with their"
            " generated sessions) and those patients, each sorted by start and compared with the next.",
            "",
            "| clients | seconds | inserts/s | transactions | failed | latency average | rows written | overlaps "
            "(chair, clinician, patient) | load (1 min) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
            f"| {pgb['clients']} | {pgb['seconds']} | {_f(pgb['tps'])} | {pgb['transactions']:,} | {pgb['failed']} | "
            f"{pgb['latency_ms']:.3f} ms | {pgb['rows']:,} | {', '.join(str(v) for v in pgb['overlaps'].values())} "
            f"| {pgb['load']:.2f} |",
            "",
        ]
        if "error" not in race:
            lines += [
                f"HTTP bookings / pgbench inserts: {race['bookings_per_second'] / pgb['tps']:.4f}. The HTTP figure "
                "counts only winning requests; every 409 in between also ran the booking's checks and the "
                "proposal of the next feasible date.",
                "",
            ]
    if "error" not in disp:
        lines += [
            "## Reminder dispatch",
            "",
            f"`bench.reminders.run`: {scale.dispatch_count:,} reminders due at once (each about its own scheduled"
            f" session; SMS through the file backend), in the clinic's database beside its {scale.reminders:,}"
            " reminders (none of them due), sent through the real Redis by a real worker (`celery -A ketaminecare"
            " worker`, default concurrency). `batched`: the service's sweep (claims in batches, one task per batch);"
            " `naive`: one task per reminder published with apply_async (bench/naive_tasks.py). Rate: rows"
            " marked sent divided by the time from the first claim to the last `sent_at`. Duplicates and losses"
            " from the SMS backend's own record of deliveries and calls. Peak memory: the sum of the worker's"
            " processes' VmHWM.",
            "",
            "| design | sent | first claim to last sent | reminders/s | wall from publish | duplicates | repeat "
            "provider calls | losses | worker peak RSS (main) | load (1 min) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for design in ("batched", "naive"):
            d = disp[design]
            lines.append(
                f"| {design} | {d['sent']:,} of {d['count']:,} | {d['seconds']:.2f} s | {_f(d['rate'], 0)} | "
                f"{d['wall']:.2f} s | {d['duplicate_deliveries']} | {d['repeat_provider_calls']} | {d['losses']} | "
                f"{d['peak_total_mib']:.0f} MiB over {d['processes']} processes ({d['peak_main_mib']:.0f}) | "
                f"{d['load']:.2f} |"
            )
        lines += ["", f"Batched / naive: {disp['batched']['rate'] / disp['naive']['rate']:.1f}x.", ""]
    if "error" not in mem:
        verdict = memory_verdict(mem)
        lines += [
            "## Memory",
            "",
            "A second gunicorn with gunicorn.conf.py, one worker (`WEB_CONCURRENCY=1`) that is never recycled"
            " (`GUNICORN_MAX_REQUESTS=1000000`), and one client asking, one request after another, for the whole"
            f" clinic's calendar of each month of {MONTH[:4]} in turn ({mem['events_per_month'][0]:,} to"
            f" {mem['events_per_month'][1]:,} events a month), {mem['requests']:,} requests in all (1-minute"
            f" load at the start: {mem['load_start']:.2f}; answers: "
            + ", ".join(f"{k}: {v}" for k, v in mem["statuses"].items())
            + f"; median {mem['median_ms']:.0f} ms). The worker's memory as the kernel reports it: VmRSS,"
            " VmHWM (peak RSS) and its private pages (what it does not share with the preloaded master).",
            "",
            "| after requests | RSS (MiB) | peak RSS (MiB) | private (MiB) |",
            "| ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {s['requests']:,} | {_mib(s['VmRSS'])} | {_mib(s['VmHWM'])} | {_mib(s['Private'])} |"
            for s in mem["samples"]
        ]
        lines += [
            "",
            f"Warm-up: the first {verdict['warm']['requests']} requests (each month seen at least once). From"
            f" {verdict['warm']['requests']} to {verdict['end']['requests']:,} requests the RSS changed by"
            f" {verdict['growth_mib']:+.1f} MiB ({verdict['per_100']:+.2f} MiB per 100 requests) and over the last"
            f" half by {verdict['late_growth_mib']:+.1f} MiB. Rule: it still grows if it gained more than 2 MiB"
            " over the last half. Verdict: "
            + ("it still grows." if verdict["grows"] else "it does not grow after warm-up."),
            "",
        ]
    lines += [
        "## Reading the figures",
        "",
        "- The machine is a shared virtual machine: other work on it shows in the load averages above; each",
        "  ratio's two sides ran close together (the calendar's variants in turns), so ratios hold better",
        "  than absolute times.",
        '- `bench.plan_course` run alone replaces the "Course planning" section of this file with its own',
        "  (`--no-write` leaves the file as `bench.run_all` wrote it); the other modules only print.",
        "",
    ]
    return "\n".join(lines)


def _span(values: list[int]) -> str:
    if not values:
        return "-"
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def comparable_density(smaller: dict[str, Any], larger: dict[str, Any]) -> bool:
    """Whether two planning runs planned into weeks about as busy (within a quarter): only then
    does their ratio measure the size of the table and not how full the planned weeks are."""
    a, b = smaller["sessions_in_planning_weeks"], larger["sessions_in_planning_weeks"]
    return max(a, b) <= 1.25 * max(1, min(a, b))


def memory_verdict(mem: dict[str, Any]) -> dict[str, Any]:
    samples = mem["samples"]
    end = samples[-1]
    warm = next((s for s in samples if s["requests"] >= 100), samples[-1])
    half = next((s for s in samples if s["requests"] >= end["requests"] // 2), warm)
    growth = (end["VmRSS"] - warm["VmRSS"]) / 1024
    late = (end["VmRSS"] - half["VmRSS"]) / 1024
    span = max(1, end["requests"] - warm["requests"])
    return {
        "warm": warm,
        "end": end,
        "growth_mib": growth,
        "late_growth_mib": late,
        "per_100": growth / span * 100,
        "grows": late > 2.0,
    }


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller run; writes bench/out/RESULTS-quick.md")
    parser.add_argument("--database", default="ketaminecare_bench_all", help="the run's own database (recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the run's database at the end")
    parser.add_argument("--output", type=Path, help="where to write the results (default: see --quick)")
    parser.add_argument("--only", help="comma-separated steps to run (for trying one out); the rest are skipped")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    for tool, how in (
        ("wrk", "apt-get update && apt-get install -y wrk"),
        ("pgbench", "apt-get install -y postgresql-client (pgbench comes with it)"),
    ):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed; install it with: {how}")
    if not GUNICORN.exists():
        raise SystemExit("gunicorn is not in .venv: .venv/bin/pip install -r requirements.txt")
    if args.database in REFUSED_NAMES:
        raise SystemExit(f"refusing to use the database {args.database!r}")
    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database_url = _server_url(server_url, args.database)
    # Not REDIS_URL: a shell set up for the tests or the demo must not have its Redis database emptied.
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    if not redis_url.startswith("redis://") or urlsplit(redis_url).path in ("", "/", "/0"):
        raise SystemExit(
            "BENCH_REDIS_URL must name a Redis database other than 0 (the run empties it): redis://host:6379/5"
        )

    began = dt.datetime.now(dt.UTC)
    load_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    info = machine()
    log(f"database {args.database}; Redis {redis_url}; {'quick' if args.quick else 'full'} run")
    _recreate(server_url, args.database)
    # Production settings for this process and every process it starts (gunicorn, Celery workers).
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", SECRET),
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    import celery
    import django
    import gunicorn
    import redis
    from django.db import connection, connections

    import bench._django  # noqa: F401  (Django, on the run's database)

    only = set(args.only.split(",")) if args.only else None
    steps: dict[str, dict[str, Any]] = {}
    activity: list[tuple[str, float, float, float, float, float, str, str]] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-run-all-"))

    def step(name: str, call: Callable[[], dict[str, Any]]) -> None:
        if only is not None and name not in only and name != "generate":
            steps[name] = {"error": "skipped (--only)", "skipped": True}
            return
        waited, busy = wait_for_quiet()
        log(f"{name} ... (waited {waited:.0f} s for the machine to be quiet: {busy:.0%} busy)")
        started, load, others = time.perf_counter(), load1(), other_work()
        try:
            steps[name] = call()
            steps[name].setdefault("load", load)
        except Exception:
            steps[name] = {"error": traceback.format_exc()}
            log(f"{name} FAILED:\n{steps[name]['error']}")
        seconds = time.perf_counter() - started
        activity.append((name, seconds, waited, busy, load, load1(), others, other_work()))
        log(f"{name} done in {seconds:.0f} s")

    web_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "GUNICORN_ACCESS_LOG": "-"}
    people: dict[str, Any] = {}
    try:
        step("generate", lambda: step_generate(scale))
        if "error" in steps["generate"]:
            raise SystemExit("the clinic could not be generated: nothing to measure")
        people.update(_people())
        step("calendar", lambda: step_calendar(scale))
        connections.close_all()
        web: Gunicorn | None = None
        try:
            web = Gunicorn(env=web_env, log_path=workdir / "gunicorn.log").__enter__()
        except Exception:
            steps["throughput"] = steps["race"] = {"error": traceback.format_exc()}
        if web is not None:
            try:
                step("throughput", lambda: step_throughput(scale, web, people))
                step("race", lambda: step_race(web, people))
            finally:
                web.stop()
        step("pgbench", lambda: step_pgbench(scale, database_url))
        connections.close_all()

        def memory() -> dict[str, Any]:
            extra = {"WEB_CONCURRENCY": "1", "GUNICORN_MAX_REQUESTS": "1000000"}
            with Gunicorn(env=web_env, log_path=workdir / "gunicorn-memory.log", extra_env=extra) as server:
                return step_memory(scale, server, people)

        step("memory", memory)
        step("dispatch", lambda: step_dispatch(scale))
        connections.close_all()
        step("planning", lambda: step_planning(scale, server_url, args.database, workdir))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgresql = cursor.fetchone()[0]
        redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    finally:
        connections.close_all()
        if not args.keep:
            _recreate(server_url, args.database, drop_only=True)
    ended = dt.datetime.now(dt.UTC)
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    parts = urlsplit(server_url)
    user = f"{parts.username}@" if parts.username else ""  # never the password
    shown = f"{parts.scheme}://{user}{parts.hostname}:{parts.port or 5432}{parts.path}"
    command = f"DATABASE_URL={shown} BENCH_REDIS_URL={redis_url} .venv/bin/python -m bench.run_all {arguments}"
    command = command.strip()
    text = report(
        {
            "machine": info,
            "steps": steps,
            "scale": scale,
            "command": command,
            "began": began,
            "ended": ended,
            "minutes": (ended - began).total_seconds() / 60,
            "load_start": load_start,
            "load_end": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "django": django.get_version(),
            "gunicorn": gunicorn.__version__,
            "celery": celery.__version__,
            "postgresql": postgresql,
            "redis": redis_version,
            "activity": activity,
        }
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    (workdir / "figures.json").write_text(json.dumps(steps, indent=2, default=str))
    log(f"wrote {output}; raw figures and logs in {workdir}")
    print(text)
    if any("error" in s and not s.get("skipped") for s in steps.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
