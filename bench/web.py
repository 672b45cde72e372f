"""The web pages, measured beside the JSON they are drawn from.

With the year-size clinic of ``bench.generate`` and one week of it (``--week``, a Monday):

- server time, in-process through Django's test Client signed in by session: the front desk's
  calendar page (its HTML, then the calendar request its script makes for the week: the page's
  whole server time) beside that calendar request alone (``GET /api/v1/calendar/``); and the
  therapist's board beside the JSON calendar of the same week's windows and appointments.
  Median and 95th percentile over ``--repeat`` interleaved rounds after ``--warmup``; SQL
  queries on one more run.
- in headless Chromium (Debian's, ``/usr/bin/chromium``) against gunicorn started with
  ``gunicorn.conf.py`` as production runs it (DEBUG off, static files collected): the time from
  the start of navigation to the moment the last session of the whole-clinic week is drawn, over
  ``--browser-runs`` loads.

It writes sessions into the database it runs on: give it its own (``DATABASE_URL``), prepared
with ``--prepare year``::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ketaminecare_bench_web \\
        python -m bench.web --prepare year --week 2031-06-02

The figures replace the "Web pages" section of bench/RESULTS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench._django  # noqa: F401  (configures Django when run as a script; before the models)

# isort: split

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from playwright.sync_api import sync_playwright

from bench.calendar import measure, prepare
from bench.plan_course import _machine, _write_results
from bench.run_all import ROOT, Gunicorn
from clinic.models import StaffMember
from ketaminecare.roles import Role
from sessions.selectors import clinic_zone, day_bounds
from tests.e2e.topology import production_env

HEADING = "## Web pages"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SESSION_TYPES = "session,maintenance_session,closure"
WINDOW_TYPES = "integration_window,integration_appointment"
# The aims of the issue: a page within 1.5x its JSON; a whole-clinic week drawn within 1 s.
PAGE_AIM = 1.5
DRAWN_AIM_MS = 1000


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _people() -> tuple[Any, Any]:
    front_desk = StaffMember.objects.filter(role=Role.FRONT_DESK).select_related("user").first()
    therapist = (
        StaffMember.objects.filter(role=Role.THERAPIST)
        .annotate(n=Count("integration_appointments"))
        .order_by("-n")
        .select_related("user")
        .first()
    )
    assert front_desk and therapist, "the database has no clinic: run with --prepare year"
    return front_desk, therapist


def run_server(*, week: dt.date, repeat: int, warmup: int) -> dict[str, Any]:
    front_desk, therapist = _people()
    desk, board = _client(front_desk.user), _client(therapist.user)
    start, end = day_bounds(week, week + dt.timedelta(days=6), clinic_zone())
    span = {"start": start.isoformat(), "end": end.isoformat()}
    sessions = {**span, "type": SESSION_TYPES}
    windows = {**span, "type": WINDOW_TYPES}
    day = {"date": week.isoformat()}

    def page_and_its_calendar() -> Any:
        assert desk.get("/desk/", day).status_code == 200
        return desk.get("/api/v1/calendar/", sessions)

    week_events = orjson.loads(desk.get("/api/v1/calendar/", sessions).content)
    return {
        "events": sum(1 for e in week_events["events"] if e["type"] != "closure"),
        "desk": measure(
            {
                "calendar page (HTML)": lambda: desk.get("/desk/", day),
                "calendar page + its calendar request": page_and_its_calendar,
                "JSON calendar, same week": lambda: desk.get("/api/v1/calendar/", sessions),
            },
            repeat=repeat,
            warmup=warmup,
        ),
        "board": measure(
            {
                "window board (HTML)": lambda: board.get("/board/", day),
                "JSON calendar, same week's windows": lambda: board.get("/api/v1/calendar/", windows),
            },
            repeat=repeat,
            warmup=warmup,
        ),
    }


def run_browser(*, week: dt.date, runs: int, expected: int) -> dict[str, Any]:
    """Navigation start to the last session drawn, in Chromium against gunicorn."""
    front_desk, _ = _people()
    session_key = _client(front_desk.user).cookies[settings.SESSION_COOKIE_NAME].value
    times: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        # As production runs: DEBUG off, static files collected and served by whitenoise. Plain
        # HTTP on the loopback, so no redirect to HTTPS; the session cookie is handed to the browser.
        # The same secret as this process, which signed the session.
        env = production_env(
            Path(scratch), WEB_CONCURRENCY="2", SECURE_SSL_REDIRECT="0", SECRET_KEY=settings.SECRET_KEY
        )
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(collect, env=env, check=True, cwd=ROOT)
        with Gunicorn(env=env, log_path=Path(scratch) / "web.log") as server, sync_playwright() as playwright:
            base = f"http://127.0.0.1:{server.port}"
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/New_York")
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": base}])
            page = context.new_page()
            url = f"{base}/desk/?date={week.isoformat()}&view=week"
            for _ in range(runs + 1):
                page.goto(url)
                page.wait_for_function(
                    "n => document.querySelectorAll('#calendar .ec-event.session').length >= n",
                    arg=expected,
                    timeout=60_000,
                )
                times.append(page.evaluate("performance.now()"))
            browser.close()
    times = times[1:]  # the first load warms the server's caches and the browser's
    return {"runs": runs, "median_ms": round(statistics.median(times)), "max_ms": round(max(times))}


def _ratio(results: dict[str, Any], group: str, page: str, json_name: str) -> float:
    return results[group][page]["median_ms"] / results[group][json_name]["median_ms"]


def section(results: dict[str, Any], *, command: str, week: dt.date, load: str) -> str:
    machine = _machine()
    desk_ratio = _ratio(results, "desk", "calendar page + its calendar request", "JSON calendar, same week")
    board_ratio = _ratio(results, "board", "window board (HTML)", "JSON calendar, same week's windows")
    drawn = results["browser"]["median_ms"]
    lines = [
        HEADING,
        "",
        f"The week of {week} in the year-size clinic ({results['events']:,} sessions in the week), "
        "through Django's test Client signed in by session (server time), and in headless Chromium "
        "against gunicorn (navigation start to the last session drawn in the whole-clinic week view).",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine['nproc']} CPUs "
        f"({machine['cpu']}), {machine['ram']} RAM; Python {platform.python_version()}",
        f"- command: `{command}`",
        f"- load average (1 min) before and after: {load} (other work on the machine slows the figures)",
        "",
        "| request | median (ms) | p95 (ms) | queries | bytes |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for group in ("desk", "board"):
        for name, row in results[group].items():
            lines.append(f"| {name} | {row['median_ms']} | {row['p95_ms']} | {row['queries']} | {row['bytes']:,} |")
    lines += [
        "",
        f"- the front desk's week, page and its calendar request against the JSON alone: **{desk_ratio:.2f}x** "
        f"(aim at most {PAGE_AIM}x: {'met' if desk_ratio <= PAGE_AIM else 'missed'})",
        f"- the therapist's board against the JSON of the same windows: **{board_ratio:.2f}x** "
        f"(aim at most {PAGE_AIM}x: {'met' if board_ratio <= PAGE_AIM else 'missed'}; the board also reads "
        "the therapist's own appointments and each window's booking)",
        f"- the whole-clinic week drawn in Chromium: median **{drawn} ms**, slowest "
        f"{results['browser']['max_ms']} ms over {results['browser']['runs']} loads "
        f"(aim under {DRAWN_AIM_MS} ms: {'met' if drawn < DRAWN_AIM_MS else 'missed'})",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--prepare", choices=("year",), help="migrate and fill an empty database first")
    parser.add_argument("--week", type=dt.date.fromisoformat, default=dt.date(2031, 6, 2), help="a Monday")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    settings.DEBUG = False  # no per-query debug log while timing; queries are counted apart
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if args.prepare:
        prepare(args.prepare)
    load_before = os.getloadavg()[0]
    results = run_server(week=args.week, repeat=args.repeat, warmup=args.warmup)
    results["browser"] = run_browser(week=args.week, runs=args.browser_runs, expected=results["events"])
    command = "python -m bench.web " + " ".join(argv if argv is not None else sys.argv[1:])
    load = f"{load_before:.1f} and {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    text = section(results, command=command.strip(), week=args.week, load=load)
    print(text)
    print(f"{connection.vendor}, {platform.machine()}", file=sys.stderr)
    if not args.no_write:
        _write_results(text, HEADING)


if __name__ == "__main__":
    main()
