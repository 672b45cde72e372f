"""The calendar and the iCalendar feed, measured beside their floor and a naive baseline.

For one month of the whole clinic (front desk) and one therapist's month (the therapist, with
``therapist=<own id>``), through Django's test Client in-process, with token authentication:

- ``calendar``: GET /api/v1/calendar/ (the selector's plain dicts written by orjson);
- ``floor (http)``: a view in this file behind the same URL stack and authentication that runs
  the same rows' raw SQL and writes the tuples with orjson; ``floor (sql)`` is that work alone,
  called as a function (no request);
- ``baseline``: what a user would otherwise write, a DRF view with nested ModelSerializers and
  select_related over the same rows, rendered by DRF's JSONRenderer.

And the feed of the clinician with the most sessions over the feed's horizon (30 days back, 365
ahead): GET /api/v1/feeds/<token>.ics, ``feed_ical()`` alone, and the same VEVENT lines written
with plain string formatting from raw SQL.

Median and 95th percentile over ``--repeat`` runs after ``--warmup``, SQL queries per request
(counted on one extra run) and response bytes. It writes a feed token and API tokens into the
database it runs on: give it its own (``DATABASE_URL``), prepared with ``--prepare year`` (the
year-size clinic of ``bench.generate``) or ``--prepare demo`` (``seed_demo``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ketaminecare_bench_cal \\
        python -m bench.calendar --prepare year --month 2031-06 --now 2031-02-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable
from typing import Any
from unittest import mock

import bench._django  # noqa: F401  (configures Django when run as a script; before DRF and the models)

# isort: split

import orjson
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars.events import MAX_RANGE
from calendars.feeds import FeedOwner, feed_horizon, feed_ical
from calendars.services import feed_issue
from clinic.models import Chair, ClosureDay, StaffMember
from ketaminecare.roles import Role
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone

# ---------------------------------------------------------------------------------------------
# The floor: the same rows by raw SQL, written with orjson.

FLOOR_SESSIONS = """
SELECT s.id, s.phase, s.status, s.starts_at, s.ends_at, s.revision, s.chair_id, c.name, s.clinician_id,
       m.display_name, s.patient_id, p.first_name, p.last_name, s.course_id, s.sequence,
       s.ride_home_confirmed, s.hold_reason
FROM treatment_sessions_treatmentsession s
JOIN treatment_sessions_chair c ON c.id = s.chair_id
JOIN treatment_sessions_staffmember m ON m.id = s.clinician_id
JOIN courses_patient p ON p.id = s.patient_id
WHERE s.starts_at < %s AND s.ends_at > %s AND s.status <> 'cancelled'
ORDER BY s.starts_at, s.id
"""
FLOOR_WINDOWS = """
SELECT w.id, w.session_id, w.opens_at, w.closes_at, w.cancelled_at, w.revision, w.patient_id, p.first_name,
       p.last_name,
       EXISTS (SELECT 1 FROM treatment_sessions_integrationappointment a
               WHERE a.window_id = w.id AND a.status IN ('booked', 'attended'))
FROM treatment_sessions_integrationwindow w
JOIN courses_patient p ON p.id = w.patient_id
WHERE w.opens_at < %s AND w.closes_at > %s AND w.cancelled_at IS NULL
ORDER BY w.opens_at, w.id
"""
FLOOR_APPOINTMENTS = """
SELECT a.id, a.window_id, a.status, a.starts_at, a.ends_at, a.revision, a.therapist_id, m.display_name,
       a.patient_id, p.first_name, p.last_name
FROM treatment_sessions_integrationappointment a
JOIN treatment_sessions_staffmember m ON m.id = a.therapist_id
JOIN courses_patient p ON p.id = a.patient_id
WHERE a.starts_at < %s AND a.ends_at > %s AND a.status <> 'cancelled' {therapist}
ORDER BY a.starts_at, a.id
"""
FLOOR_CLOSURES = "SELECT id, date, reason FROM treatment_sessions_closureday WHERE date >= %s AND date <= %s"


def floor_payload(start: dt.datetime, end: dt.datetime, therapist_id: int | None) -> bytes:
    zone = clinic_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        if therapist_id is None:
            cursor.execute(FLOOR_SESSIONS, [end, start])
            out["sessions"] = cursor.fetchall()
            cursor.execute(FLOOR_WINDOWS, [end, start])
            out["windows"] = cursor.fetchall()
            cursor.execute(FLOOR_APPOINTMENTS.format(therapist=""), [end, start])
        else:
            cursor.execute(FLOOR_APPOINTMENTS.format(therapist="AND a.therapist_id = %s"), [end, start, therapist_id])
        out["appointments"] = cursor.fetchall()
        cursor.execute(FLOOR_CLOSURES, [first, last])
        out["closures"] = cursor.fetchall()
    return orjson.dumps(out)


def _range(request: Request) -> tuple[dt.datetime, dt.datetime, int | None]:
    params = request.query_params
    therapist = params.get("therapist")
    return (
        dt.datetime.fromisoformat(params["start"]),
        dt.datetime.fromisoformat(params["end"]),
        int(therapist) if therapist else None,
    )


class FloorView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> HttpResponse:
        start, end, therapist = _range(request)
        return HttpResponse(floor_payload(start, end, therapist), content_type="application/json")


# ---------------------------------------------------------------------------------------------
# The baseline: nested ModelSerializers with select_related, as a plain DRF endpoint would be.


class ChairOut(serializers.ModelSerializer):
    class Meta:
        model = Chair
        fields = ["id", "name"]


class StaffOut(serializers.ModelSerializer):
    class Meta:
        model = StaffMember
        fields = ["id", "display_name"]


class PatientOut(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "first_name", "last_name"]


class SessionOut(serializers.ModelSerializer):
    chair = ChairOut()
    clinician = StaffOut()
    patient = PatientOut()

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "phase",
            "status",
            "starts_at",
            "ends_at",
            "revision",
            "chair",
            "clinician",
            "patient",
            "course",
            "sequence",
            "ride_home_confirmed",
            "hold_reason",
        ]


class WindowOut(serializers.ModelSerializer):
    patient = PatientOut()
    booked = serializers.BooleanField()

    class Meta:
        model = IntegrationWindow
        fields = ["id", "session", "opens_at", "closes_at", "cancelled_at", "revision", "patient", "booked"]


class AppointmentOut(serializers.ModelSerializer):
    therapist = StaffOut()
    patient = PatientOut()

    class Meta:
        model = IntegrationAppointment
        fields = ["id", "window", "status", "starts_at", "ends_at", "revision", "therapist", "patient"]


class ClosureOut(serializers.ModelSerializer):
    class Meta:
        model = ClosureDay
        fields = ["id", "date", "reason"]


class BaselineView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        from django.db.models import Exists, OuterRef

        start, end, therapist = _range(request)
        zone = clinic_zone()
        data: dict[str, Any] = {}
        appointments = IntegrationAppointment.objects.select_related("therapist", "patient").filter(
            starts_at__lt=end, ends_at__gt=start
        )
        appointments = appointments.exclude(status=IntegrationAppointment.Status.CANCELLED)
        if therapist is None:
            sessions = (
                TreatmentSession.objects.select_related("chair", "clinician", "patient")
                .filter(starts_at__lt=end, ends_at__gt=start)
                .exclude(status=TreatmentSession.Status.CANCELLED)
            )
            data["sessions"] = SessionOut(sessions, many=True).data
            booked = IntegrationAppointment.objects.filter(
                window_id=OuterRef("pk"), status__in=IntegrationAppointment.OCCUPYING_STATUSES
            )
            windows = (
                IntegrationWindow.objects.select_related("patient")
                .filter(opens_at__lt=end, closes_at__gt=start, cancelled_at__isnull=True)
                .annotate(booked=Exists(booked))
            )
            data["windows"] = WindowOut(windows, many=True).data
        else:
            appointments = appointments.filter(therapist_id=therapist)
        data["appointments"] = AppointmentOut(appointments, many=True).data
        closures = ClosureDay.objects.filter(
            date__gte=start.astimezone(zone).date(), date__lte=end.astimezone(zone).date()
        )
        data["closures"] = ClosureOut(closures, many=True).data
        return Response(data)


urlconf = types.ModuleType("bench_calendar_urls")
urlconf.urlpatterns = [
    path("bench/floor/", FloorView.as_view()),
    path("bench/baseline/", BaselineView.as_view()),
    path("", include(settings.ROOT_URLCONF)),
]


# ---------------------------------------------------------------------------------------------
# The feed written with plain string formatting: the same rows and VEVENT lines, no escaping
# or folding, no request.

PLAIN_SESSIONS = """
SELECT s.id, s.status, s.starts_at, s.ends_at, s.revision, c.name, p.first_name, p.last_name
FROM treatment_sessions_treatmentsession s
JOIN treatment_sessions_chair c ON c.id = s.chair_id
JOIN courses_patient p ON p.id = s.patient_id
WHERE s.clinician_id = %s AND s.starts_at < %s AND s.ends_at > %s ORDER BY s.starts_at, s.id
"""
PLAIN_APPOINTMENTS = """
SELECT a.id, a.status, a.starts_at, a.ends_at, a.revision, p.first_name, p.last_name
FROM treatment_sessions_integrationappointment a JOIN courses_patient p ON p.id = a.patient_id
WHERE a.therapist_id = %s AND a.starts_at < %s AND a.ends_at > %s ORDER BY a.starts_at, a.id
"""


def plain_feed(staff_id: int, now: dt.datetime) -> str:
    start, end = feed_horizon(now)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    where = f"{settings.CLINIC_NAME}, {settings.CLINIC_ADDRESS}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//plain//EN"]
    with connection.cursor() as cursor:
        cursor.execute(PLAIN_SESSIONS, [staff_id, end, start])
        for pk, status, starts, ends, revision, chair, first, last in cursor.fetchall():
            lines += [
                "BEGIN:VEVENT",
                f"UID:session-{pk}@{settings.CALENDAR_UID_DOMAIN}",
                f"SEQUENCE:{revision}",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{starts.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
                f"DTEND:{ends.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
                f"SUMMARY:Clinic appointment · {first[:1]}.{last[:1]}.",
                f"LOCATION:{where}, {chair}",
                "STATUS:CANCELLED" if status == "cancelled" else "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
        cursor.execute(PLAIN_APPOINTMENTS, [staff_id, end, start])
        for pk, status, starts, ends, revision, first, last in cursor.fetchall():
            lines += [
                "BEGIN:VEVENT",
                f"UID:integration-appointment-{pk}@{settings.CALENDAR_UID_DOMAIN}",
                f"SEQUENCE:{revision}",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{starts.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
                f"DTEND:{ends.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
                f"SUMMARY:Follow-up appointment · {first[:1]}.{last[:1]}.",
                f"LOCATION:{where}",
                "STATUS:CANCELLED" if status == "cancelled" else "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
        first_day, last_day = start.astimezone(clinic_zone()).date(), end.astimezone(clinic_zone()).date()
        cursor.execute(FLOOR_CLOSURES, [first_day, last_day])
        for pk, day, _reason in cursor.fetchall():
            lines += [
                "BEGIN:VEVENT",
                f"UID:closure-{pk}@{settings.CALENDAR_UID_DOMAIN}",
                "SEQUENCE:0",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
                "SUMMARY:Clinic closed",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
    lines += ["END:VCALENDAR", ""]
    return "\r\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(calls: dict[str, Callable[[], Any]], *, repeat: int, warmup: int) -> dict[str, Any]:
    """Time the variants in turns (one run of each per round), so that a busy machine slows
    them alike and their ratios hold; then count queries and bytes on one more run of each."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - began) * 1000)
    out = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as queries:
            result = call()
        if hasattr(result, "status_code"):
            assert result.status_code == 200, result.content[:500]
        ordered = sorted(times[name])
        out[name] = {
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2),
            "queries": len(queries.captured_queries),
            "bytes": len(result.content) if hasattr(result, "content") else len(result),
        }
    return out


def _token_client(user: Any) -> Client:
    from accounts.services import token_issue

    return Client(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")


def _month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    year, number = (int(x) for x in month.split("-"))
    zone = clinic_zone()
    start = dt.datetime(year, number, 1, tzinfo=zone)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def prepare(kind: str) -> None:
    call_command("migrate", verbosity=0)
    if TreatmentSession.objects.exists():
        return
    if kind == "demo":
        call_command("seed_demo", verbosity=0)
    else:
        from bench.generate import build_year_clinic

        summary = build_year_clinic(start=dt.date(2031, 1, 6), seed=1)
        print(json.dumps(summary), file=sys.stderr)


def run(*, month: str, now: dt.datetime, repeat: int, warmup: int) -> dict[str, Any]:
    start, end = _month_bounds(month)
    front_desk = StaffMember.objects.filter(role=Role.FRONT_DESK).select_related("user").first()
    therapist = (
        StaffMember.objects.filter(role=Role.THERAPIST)
        .annotate(n=Count("integration_appointments"))
        .order_by("-n")
        .select_related("user")
        .first()
    )
    clinician = (
        StaffMember.objects.filter(role=Role.CLINICIAN)
        .annotate(n=Count("sessions"))
        .order_by("-n")
        .select_related("user")
        .first()
    )
    assert front_desk and therapist and clinician, "the database has no clinic: run with --prepare"
    desk, therapy = _token_client(front_desk.user), _token_client(therapist.user)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    mine = {**params, "therapist": str(therapist.pk)}
    results: dict[str, Any] = {}

    def calendar_count(client: Client, query: dict[str, str]) -> int:
        return int(orjson.loads(client.get("/api/v1/calendar/", query).content)["count"])

    results["clinic_month"] = {
        "events": calendar_count(desk, params),
        **measure(
            {
                "calendar": lambda: desk.get("/api/v1/calendar/", params),
                "floor (http)": lambda: desk.get("/bench/floor/", params),
                "floor (sql)": lambda: floor_payload(start, end, None),
                "baseline": lambda: desk.get("/bench/baseline/", params),
            },
            repeat=repeat,
            warmup=warmup,
        ),
    }
    results["therapist_month"] = {
        "events": calendar_count(therapy, mine),
        **measure(
            {
                "calendar": lambda: therapy.get("/api/v1/calendar/", mine),
                "floor (http)": lambda: therapy.get("/bench/floor/", mine),
                "floor (sql)": lambda: floor_payload(start, end, therapist.pk),
                "baseline": lambda: therapy.get("/bench/baseline/", mine),
            },
            repeat=repeat,
            warmup=warmup,
        ),
    }
    queries_by_range = {}
    for days in (1, 7, 31, MAX_RANGE.days):
        query = {"start": start.isoformat(), "end": (start + dt.timedelta(days=days)).isoformat()}
        with CaptureQueriesContext(connection) as captured:
            count = calendar_count(desk, query)
        queries_by_range[f"{days} days"] = {"events": count, "queries": len(captured.captured_queries)}
    results["queries_by_range"] = queries_by_range

    with mock.patch.object(timezone, "now", return_value=now):
        token = feed_issue(owner=("staff", clinician.pk), now=now).token
        anonymous = Client()
        url = f"/api/v1/feeds/{token}.ics"
        body = anonymous.get(url).content
        results["clinician_feed_year"] = {
            "events": body.count(b"BEGIN:VEVENT"),
            **measure(
                {
                    "feed (http)": lambda: anonymous.get(url),
                    "feed_ical()": lambda: feed_ical(FeedOwner(staff_id=clinician.pk), now=now),
                    "plain strings": lambda: plain_feed(clinician.pk, now),
                },
                repeat=repeat,
                warmup=warmup,
            ),
        }
    return results


def ratios(results: dict[str, Any]) -> dict[str, float]:
    out = {}
    for scenario in ("clinic_month", "therapist_month"):
        r = results[scenario]
        calendar = r["calendar"]["median_ms"]
        out[f"{scenario}: calendar / floor (http)"] = round(calendar / r["floor (http)"]["median_ms"], 2)
        out[f"{scenario}: calendar / floor (sql)"] = round(calendar / r["floor (sql)"]["median_ms"], 2)
        out[f"{scenario}: baseline / calendar"] = round(r["baseline"]["median_ms"] / calendar, 2)
    feed = results["clinician_feed_year"]
    out["feed (http) / plain strings"] = round(feed["feed (http)"]["median_ms"] / feed["plain strings"]["median_ms"], 2)
    out["feed_ical() / plain strings"] = round(feed["feed_ical()"]["median_ms"] / feed["plain strings"]["median_ms"], 2)
    return out


def table(results: dict[str, Any]) -> str:
    rows = [
        "| scenario | events | variant | median ms | p95 ms | queries | bytes |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for scenario in ("clinic_month", "therapist_month", "clinician_feed_year"):
        r = results[scenario]
        for variant, m in r.items():
            if variant == "events":
                continue
            rows.append(
                f"| {scenario} | {r['events']} | {variant} | {m['median_ms']} | {m['p95_ms']} "
                f"| {m['queries']} | {m['bytes']} |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--prepare", choices=("year", "demo"), help="migrate and fill an empty database first")
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the current month)")
    parser.add_argument("--now", type=dt.date.fromisoformat, help="the feed's today (default: today)")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    # Timings without Django's per-query debug log; queries are counted on a separate run.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.ROOT_URLCONF = urlconf
    if args.prepare:
        prepare(args.prepare)
    zone = clinic_zone()
    month = args.month or timezone.localdate().strftime("%Y-%m")
    now = dt.datetime.combine(args.now, dt.time(12), tzinfo=zone).astimezone(dt.UTC) if args.now else timezone.now()
    results = run(month=month, now=now, repeat=args.repeat, warmup=args.warmup)
    print(table(results))
    print()
    print(
        json.dumps(
            {"month": month, "feed_now": now.isoformat(), "queries_by_range": results["queries_by_range"]}, indent=2
        )
    )
    print(json.dumps(ratios(results), indent=2))
    print(f"python {platform.python_version()}, {connection.vendor}, {platform.machine()}", file=sys.stderr)


if __name__ == "__main__":
    main()
