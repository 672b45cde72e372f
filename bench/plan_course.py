"""Course planning in a clinic that holds a year of bookings: milliseconds and SQL queries per course.

For each size, the benchmark (re)creates its own PostgreSQL database, migrates it, fills it with
``bench.generate.build_year_clinic`` and then, for ``--runs`` new screened patients, one after
the other:

- proposes an induction course (``course_propose``, the preview: writes nothing) from a first
  date one to eight weeks after the data's "today", cycling through the three seeded protocols;
- books it (``course_book``; the next feasible plan when the first date does not work).

Each call is timed on its own, and its SQL queries are counted with ``CaptureQueriesContext``.
A few warm-up runs come first and are not counted. The figures go to bench/RESULTS.md under
"Course planning" (the rest of the file is kept).

    python -m bench.plan_course --sizes 1000 10000 20000 100000 --runs 50

``DATABASE_URL`` names the PostgreSQL server (its database is not touched); the benchmark's
database (``--database``, default ``ketaminecare_bench``) is dropped and created for each size and
dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.quiet import wait_for_quiet

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "## Course planning"
START = dt.date(2031, 1, 6)  # a Monday, far from today: the clock is passed to the services
REFUSED_NAMES = {"test", "postgres", "template0", "template1"}


def _server_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://...)")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _recreate(database_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop and (unless ``drop_only``) create the benchmark's database, from the server's own."""
    if name in REFUSED_NAMES:
        raise SystemExit(f"refusing to drop the database {name!r}")
    admin = _server_url(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _machine() -> dict[str, str]:
    cpu = "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _measure(*, summary: dict[str, Any], runs: int, warmup: int, seed: int) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from clinic.models import StaffMember
    from courses.models import TreatmentProtocol
    from patients.models import Contraindication, Patient, Screening
    from patients.services import screening_record
    from sessions.models import TreatmentSession
    from sessions.scheduling import local_instant
    from sessions.selectors import clinic_zone
    from sessions.services.booking import course_book
    from sessions.services.proposal import SessionRequest, course_propose

    zone = clinic_zone()
    as_of = dt.date.fromisoformat(summary["as_of"])
    now = local_instant(as_of, dt.time(7), zone)
    assert now is not None
    protocols = list(TreatmentProtocol.objects.order_by("id"))
    clinician = StaffMember.objects.filter(role="clinician").order_by("id").first()
    assert clinician is not None
    rng = random.Random(seed)
    # How busy the weeks are in which the planned courses land (first dates up to eight weeks
    # out, and a course's three weeks after): the planner reads the clinic's state over those
    # weeks, so its time follows their density, whatever the size of the rest of the table.
    planning_weeks = TreatmentSession.objects.filter(
        status__in=TreatmentSession.OCCUPYING_STATUSES,
        local_date__gt=as_of,
        local_date__lte=as_of + dt.timedelta(days=56 + 21),
    ).count()
    rows: list[dict[str, Any]] = []
    for index in range(warmup + runs):
        patient = Patient.objects.create(
            first_name="Bench", last_name=f"Planner {index}", date_of_birth=dt.date(1980, 1, 1)
        )
        screening_record(
            patient=patient,
            clinician=clinician.user,
            performed_on=as_of - dt.timedelta(days=7),
            outcome=Screening.Outcome.ELIGIBLE,
            valid_until=as_of + dt.timedelta(days=365),
            informed_consent_off_label=True,
            contraindications_checked=list(Contraindication.values),
        )
        protocol = protocols[index % len(protocols)]
        first_date = as_of + dt.timedelta(days=rng.randint(1, 56))
        while first_date.weekday() > 4:  # the front desk proposes a weekday
            first_date += dt.timedelta(days=1)

        # The query log holds at most 9,000 entries, after which CaptureQueriesContext counts
        # nothing: empty it before each measured call.
        reset_queries()
        with CaptureQueriesContext(connection) as proposing:
            began = time.perf_counter()
            proposal = course_propose(patient=patient, protocol=protocol, first_date=first_date, now=now)
            proposed = time.perf_counter()
        plan = proposal.plan if proposal.feasible else proposal.next_feasible
        booked_ms = None
        booking_queries = None
        sessions = 0
        if plan is not None:
            requests = [SessionRequest(s.starts_at, s.chair_id, s.clinician_id) for s in plan.sessions]
            reset_queries()
            with CaptureQueriesContext(connection) as booking:
                started = time.perf_counter()
                course = course_book(
                    patient=patient,
                    protocol=protocol,
                    sessions=requests,
                    now=now,
                )
                booked_ms = (time.perf_counter() - started) * 1000
            booking_queries = len(booking.captured_queries)
            sessions = TreatmentSession.objects.filter(course=course).count()
        if index >= warmup:
            rows.append(
                {
                    "propose_ms": (proposed - began) * 1000,
                    "propose_queries": len(proposing.captured_queries),
                    "book_ms": booked_ms,
                    "book_queries": booking_queries,
                    "feasible_first_date": proposal.feasible,
                    "refused_by": None if proposal.feasible else proposal.plan.problems[0].rule,
                    "sessions": sessions,
                }
            )
    return {**_figures(rows), "sessions_in_planning_weeks": planning_weeks}


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    propose = [r["propose_ms"] for r in rows]
    booked = [r for r in rows if r["book_ms"] is not None]
    book = [r["book_ms"] for r in booked]
    total = [r["propose_ms"] + r["book_ms"] for r in booked]
    return {
        "runs": len(rows),
        "propose_median_ms": statistics.median(propose),
        "propose_p95_ms": _percentile(propose, 0.95),
        "book_median_ms": statistics.median(book) if book else None,
        "book_p95_ms": _percentile(book, 0.95) if book else None,
        "total_median_ms": statistics.median(total) if total else None,
        "total_p95_ms": _percentile(total, 0.95) if total else None,
        "propose_queries": sorted({r["propose_queries"] for r in rows}),
        "book_queries": sorted({r["book_queries"] for r in booked}),
        "feasible_first_date": sum(1 for r in rows if r["feasible_first_date"]),
        "refused_by": dict(Counter(r["refused_by"] for r in rows if r["refused_by"]).most_common()),
        "booked": len(booked),
        "sessions_booked": sum(r["sessions"] for r in booked),
    }


def _span(values: list[int]) -> str:
    if not values:
        return "-"
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def _refusals(refused_by: dict[str, int]) -> str:
    if not refused_by:
        return ""
    return " (" + ", ".join(f"{rule} {count}" for rule, count in refused_by.items()) + ")"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _section(*, results: list[dict[str, Any]], command: str, machine: dict[str, str], versions: str, load: str) -> str:
    lines = [
        HEADING,
        "",
        "One induction course proposed (`course_propose`, the preview) and booked (`course_book`) for a new",
        "screened patient, in a clinic generated by `bench/generate.py` (12 chairs, 18 clinicians,",
        "6 therapists; chairs booked to about 85 % of their open time; sessions before the data's",
        '"today" completed, later ones scheduled, about half of the windows with an appointment).',
        'First dates are weekdays one to eight weeks after that "today"; the protocols alternate',
        "(three a week, twice a week, esketamine). Medians and 95th percentiles over the runs;",
        "warm-up runs excluded. Queries are counted with `CaptureQueriesContext` (ranges when they vary).",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram']} RAM",
        f"- software: {versions}",
        f"- load average (1 min) before and after: {load} (other work on the machine slows the figures)",
        f"- command: `{command}`",
        "",
        "| sessions in the database | span of the data | sessions in the planning weeks | generated in | runs "
        "| propose median / p95 (ms) "
        "| propose queries | book median / p95 (ms) | book queries | plan + book median / p95 (ms) "
        "| first date feasible (else refused by) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        s = r["summary"]
        lines.append(
            f"| {s['sessions']:,} | {s['start']} to {s['last_day']} | {r['sessions_in_planning_weeks']:,} "
            f"| {s['seconds']:.0f} s | {r['runs']} "
            f"| {_ms(r['propose_median_ms'])} / {_ms(r['propose_p95_ms'])} | {_span(r['propose_queries'])} "
            f"| {_ms(r['book_median_ms'])} / {_ms(r['book_p95_ms'])} | {_span(r['book_queries'])} "
            f"| {_ms(r['total_median_ms'])} / {_ms(r['total_p95_ms'])} | {r['feasible_first_date']} of {r['runs']}"
            f"{_refusals(r['refused_by'])} |"
        )
    lines.append("")
    return "\n".join(lines)


def _write_results(section: str, heading: str = HEADING) -> None:
    """Replace the section of RESULTS.md under ``heading`` (or add it), keeping the others."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    if heading in text:
        begin = text.index(heading)
        end = text.find("\n## ", begin + len(heading))
        text = text[:begin] + section + (text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 20000, 100000])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="ketaminecare_bench")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    parser.add_argument("--json", type=Path, help="also write the figures to this file, as JSON (for bench.run_all)")
    args = parser.parse_args(argv)

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = _server_url(server, args.database)
    # Production settings: no query log kept by DEBUG (CaptureQueriesContext counts on its own).
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment")
    _recreate(server, args.database)
    load_before = os.getloadavg()[0]

    import django
    from django.core.management import call_command
    from django.db import connection, connections

    import bench._django  # noqa: F401
    from bench.generate import build_year_clinic

    results: list[dict[str, Any]] = []
    for size in args.sizes:
        if results:
            connections.close_all()
            _recreate(server, args.database)
        call_command("migrate", verbosity=0)
        print(f"generating {size:,} sessions ...", file=sys.stderr, flush=True)
        summary = build_year_clinic(start=START, seed=args.seed, sessions=size)
        waited, busy = wait_for_quiet()  # the generation's checkpoints and vacuum, before measuring
        summary["quiet_wait_seconds"], summary["busy_at_start"] = round(waited, 1), round(busy, 3)
        print(
            f"  {summary['seconds']} s; waited {waited:.0f} s for quiet; planning {args.runs} courses ...",
            file=sys.stderr,
            flush=True,
        )
        figures = _measure(summary=summary, runs=args.runs, warmup=args.warmup, seed=args.seed)
        figures["summary"] = summary
        results.append(figures)
        print(
            f"  propose median {figures['propose_median_ms']:.1f} ms, p95 {figures['propose_p95_ms']:.1f} ms, "
            f"queries {figures['propose_queries']}; book median {_ms(figures['book_median_ms'])} ms, "
            f"queries {figures['book_queries']}; first dates refused by {figures['refused_by']}",
            file=sys.stderr,
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    connections.close_all()
    if not args.keep:
        _recreate(server, args.database, drop_only=True)

    parts = urlsplit(server)
    user = f"{parts.username}@" if parts.username else ""  # never the password
    server_shown = f"{parts.scheme}://{user}{parts.hostname}:{parts.port or 5432}{parts.path}"
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    command = f"DATABASE_URL={server_shown} .venv/bin/python -m bench.plan_course {arguments}"
    versions = f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg_version}"
    load = f"{load_before:.1f} and {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    section = _section(results=results, command=command.strip(), machine=_machine(), versions=versions, load=load)
    print(section)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "pg_version": pg_version}, indent=2))
    if not args.no_write:
        _write_results(section)


if __name__ == "__main__":
    main()
