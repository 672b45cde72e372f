"""A year-size clinic written straight into the database, for the benchmarks.

``build_year_clinic()`` lays out chairs, clinicians, therapists, clinic hours, closures, staff
hours and time off, the seeded protocols, screened patients and their courses with sessions,
integration windows and appointments: about 20,000 sessions in twelve chairs by default, a
little over a year of a busy clinic. It writes with ``bulk_create`` (the services would take
minutes), so it keeps every rule the database states by construction:

- each chair is staffed for the day by one clinician on duty, and the chair's sessions follow
  one another, so no chair and no clinician has two overlapping sessions, and every session lies
  in the clinic's hours and its clinician's working hours, outside their time off;
- a patient follows one course at a time, and a course has at most one session a day, so no
  patient has two overlapping sessions;
- a patient has at most one course that is still active at ``as_of`` (the data's "today");
- every session has its window 24-48 h (the protocol's offsets) after it ends, cancelled when the
  session did not keep its time; about two thirds of the windows hold an appointment with a
  therapist who works then and has no other appointment at that hour.

The clinic is open 07:00-19:00 on weekdays and 08:00-14:00 on Saturdays (long days: twelve chairs
give twenty thousand sessions a year only so). The first courses start on ``start``; each day,
new courses start until the day's chairs are booked to ``occupancy`` (each chair keeps a free
stretch at the end of some days, so that new courses fit); later sessions of a course
that find their day full move to the next day with room. Sessions before ``as_of`` are completed
(a few no-shows, holds and cancellations); later ones are scheduled. The same arguments and seed
give the same rows.

Run it on an empty, migrated database (``DATABASE_URL`` names it)::

    python -m bench.generate --migrate --sessions 20000 --start 2031-01-06 --seed 1

Without ``--start`` the data is laid out so that ``as_of`` is today (the dates then depend on the
day it runs).

``build_reminders()`` (``--reminders 60000``) then adds the reminder rows the outbox would hold
for that clinic: the default plan's, sent before ``as_of`` and pending after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction

import bench._django  # noqa: F401  (configures Django when run as a script; must precede the models)
from accounts.roles import roles_ensure
from backoffice.management.commands.seed_demo import PROTOCOLS
from clinic.models import Chair, ClinicHours, ClosureDay, StaffMember, TimeOff, WorkingHours
from courses.models import Course, TreatmentProtocol
from ketaminecare.roles import Role
from patients.models import Contraindication, Patient, Screening
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.scheduling import local_instant

UTC = dt.UTC
GRID_MINUTES = 15
BATCH = 2000

# The clinic's hours, weekday -> (opens, closes) in minutes after local midnight.
CLINIC_HOURS = {weekday: (7 * 60, 19 * 60) for weekday in range(5)} | {5: (8 * 60, 14 * 60)}
THERAPIST_HOURS = {weekday: (9 * 60, 17 * 60) for weekday in range(5)} | {5: (9 * 60, 13 * 60)}
# How often each protocol of seed_demo.PROTOCOLS is chosen for a new course.
PROTOCOL_WEIGHTS = (0.45, 0.35, 0.20)
# Each member of staff takes one week off in every TIME_OFF_CYCLE weeks, staggered.
TIME_OFF_CYCLE = 13
HOLD_REASON = "Blood pressure above 140/90 before dosing."

FIRST_NAMES = [
    "Alex",
    "Blair",
    "Casey",
    "Dana",
    "Eden",
    "Frankie",
    "Gray",
    "Harper",
    "Indigo",
    "Jamie",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Taylor",
    "Umber",
    "Val",
    "Wren",
    "Yael",
    "Zion",
]
LAST_NAMES = [
    "Abbott",
    "Baker",
    "Castillo",
    "Dawson",
    "Ellison",
    "Fischer",
    "Grant",
    "Holloway",
    "Ibarra",
    "Jensen",
    "Keller",
    "Lindqvist",
    "Moreno",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Ramsey",
    "Sato",
    "Thornton",
    "Underwood",
    "Vasquez",
    "Whitaker",
    "Xu",
    "Young",
    "Zimmerman",
]


@dataclass
class _Day:
    """One open day: which clinician staffs which chair, and how far each chair is booked."""

    date: dt.date
    opens: int
    closes: int
    pairs: list[tuple[int, int]]  # (chair index, clinician index)
    cursor: list[int]  # per pair: the first free minute
    limit: list[int]  # per pair: the minute after which the chair stays free that day
    load: int = 0

    @property
    def capacity(self) -> int:
        return len(self.pairs) * (self.closes - self.opens)


@dataclass
class _Session:
    course: int
    sequence: int
    phase: str
    day: dt.date
    chair: int
    clinician: int
    start_minute: int


@dataclass
class _Course:
    patient: int
    protocol: int
    sessions: list[_Session] = field(default_factory=list)
    cancelled: bool = False


def _round_up(minutes: int) -> int:
    return math.ceil(minutes / GRID_MINUTES) * GRID_MINUTES


def _round_down(minutes: float) -> int:
    return math.floor(minutes / GRID_MINUTES) * GRID_MINUTES


def _holidays(year: int) -> dict[dt.date, str]:
    november_first = dt.date(year, 11, 1)
    thanksgiving = november_first + dt.timedelta(days=(3 - november_first.weekday()) % 7 + 21)
    return {
        dt.date(year, 1, 1): "New Year's Day",
        dt.date(year, 7, 4): "Independence Day",
        thanksgiving: "Thanksgiving",
        dt.date(year, 12, 25): "Christmas Day",
    }


def _week(day: dt.date, monday0: dt.date) -> int:
    return (day - monday0).days // 7


def _off_week(index: int, count: int, week: int, shift: int = 0) -> bool:
    """True when staff member ``index`` of ``count`` has ``week`` off (one week in each cycle)."""
    return week % TIME_OFF_CYCLE == (index * TIME_OFF_CYCLE // max(count, 1) + shift) % TIME_OFF_CYCLE


def _clinician_weekdays(k: int) -> set[int]:
    """Four weekdays (one off, rotating with k) and every other clinician on Saturdays."""
    days = {d for d in range(5) if d != k % 5}
    if k % 2 == 0:
        days.add(5)
    return days


def _therapist_weekdays(t: int) -> set[int]:
    return set(range(5)) | ({5} if t % 2 == 0 else set())


def _estimated_days(*, sessions: int, chairs: int, occupancy: float) -> int:
    """Calendar days the sessions need at the target occupancy (for the default ``as_of``)."""
    week_minutes = sum(closes - opens for opens, closes in CLINIC_HOURS.values()) * chairs * occupancy
    per_week = week_minutes / 120  # a session and its share of the gaps, on average
    return max(7, math.ceil(sessions / per_week * 7))


def build_year_clinic(
    *,
    start: dt.date,
    seed: int = 1,
    chairs: int = 12,
    clinicians: int = 18,
    therapists: int = 6,
    patients: int = 3000,
    sessions: int = 20000,
    occupancy: float = 0.85,
    as_of: dt.date | None = None,
    appointment_share: float = 0.7,
) -> dict[str, Any]:
    """Write a clinic with ``sessions`` sessions from ``start`` into an empty, migrated database.

    ``patients`` is a floor: more are added when every patient is busy or has an active course.
    Clinicians work four weekdays a week (and every other one on Saturdays), so 18 of them keep
    12 chairs staffed; with fewer, the chairs beyond the clinicians on duty stay empty that day
    (a clinician is taken for the whole session). ``as_of`` (default: halfway through the data)
    splits the past (completed) from the future (scheduled). Returns a summary of what was
    written. Refuses a database that already has chairs or sessions.
    """
    if Chair.objects.exists() or TreatmentSession.objects.exists():
        raise RuntimeError("build_year_clinic expects a freshly migrated, empty database")
    if not 0 < occupancy <= 1:
        raise ValueError("occupancy is a fraction of the chairs' open time, in (0, 1]")
    began = time.perf_counter()
    rng = random.Random(seed)
    zone = ZoneInfo(settings.TIME_ZONE)
    if as_of is None:
        as_of = start + dt.timedelta(days=_estimated_days(sessions=sessions, chairs=chairs, occupancy=occupancy) // 2)
    as_of_instant = local_instant(as_of, dt.time(0), zone)
    assert as_of_instant is not None
    monday0 = start - dt.timedelta(days=start.weekday())

    roles_ensure()
    protocols = [TreatmentProtocol.objects.get_or_create(name=spec["name"], defaults=spec)[0] for spec in PROTOCOLS]
    lengths = [_round_up(p.session_minutes) for p in protocols]

    holidays: dict[dt.date, str] = {}
    years: set[int] = set()

    def closed(day: dt.date) -> bool:
        if day.year not in years:
            years.add(day.year)
            holidays.update(_holidays(day.year))
        return day in holidays or day.weekday() not in CLINIC_HOURS

    clinician_days = [_clinician_weekdays(k) for k in range(clinicians)]
    days: dict[dt.date, _Day | None] = {}

    def day_state(day: dt.date) -> _Day | None:
        if day not in days:
            state = None
            if not closed(day):
                week = _week(day, monday0)
                on_duty = [
                    k
                    for k in range(clinicians)
                    if day.weekday() in clinician_days[k] and not _off_week(k, clinicians, week)
                ]
                if on_duty:
                    # Rotate who staffs which chair so that every chair sees every clinician.
                    turn = day.toordinal() % len(on_duty)
                    on_duty = on_duty[turn:] + on_duty[:turn]
                    pairs = list(zip(range(chairs), on_duty, strict=False))
                    opens, closes = CLINIC_HOURS[day.weekday()]
                    cursor = [opens + GRID_MINUTES * rng.choice((0, 0, 1, 2)) for _ in pairs]
                    # Each chair keeps a free stretch at the end of the day, from none to twice
                    # the share ``occupancy`` leaves, so that the free time is in blocks a
                    # session fits in (not crumbs between sessions), as in a real diary.
                    spare = 2 * (1 - occupancy) * (closes - opens)
                    limit = [closes - _round_down(rng.uniform(0, spare)) for _ in pairs]
                    state = _Day(day, opens, closes, pairs, cursor, limit)
            days[day] = state
        return days[day]

    def place(day: dt.date, length: int) -> tuple[_Day, int, int] | None:
        """The first day from ``day`` with a chair free for ``length`` minutes: (day, pair, start)."""
        for offset in range(21):
            state = day_state(day + dt.timedelta(days=offset))
            if state is None:
                continue
            fitting = [i for i, c in enumerate(state.cursor) if c + length <= state.limit[i]]
            if not fitting:
                continue
            i = rng.choice(fitting)
            free_from = state.cursor[i]
            gap = GRID_MINUTES * rng.choice((0, 0, 0, 0, 1, 2))
            begin = free_from + gap if free_from + gap + length <= state.limit[i] else free_from
            state.cursor[i] = begin + length
            state.load += state.cursor[i] - free_from
            return state, i, begin
        return None

    # Patients free from a day, soonest first; a patient with a course active at as_of retires.
    free: list[tuple[dt.date, int]] = [(start - dt.timedelta(days=1), p) for p in range(patients)]
    heapq.heapify(free)
    patient_count = patients

    def take_patient(day: dt.date) -> int:
        nonlocal patient_count
        if free and free[0][0] <= day:
            return heapq.heappop(free)[1]
        patient_count += 1
        return patient_count - 1

    courses: list[_Course] = []
    remaining = sessions
    day = start
    idle_days = 0
    while remaining > 0:
        state = day_state(day)
        started = False
        while state is not None and remaining > 0 and state.load < occupancy * state.capacity:
            protocol_index = rng.choices(range(len(protocols)), weights=PROTOCOL_WEIGHTS)[0]
            protocol = protocols[protocol_index]
            length = lengths[protocol_index]
            targets: list[tuple[dt.date, str]] = []
            for week, count in enumerate(protocol.weekly_cadence):
                step = 7 // int(count)
                targets += [
                    (day + dt.timedelta(days=7 * week + i * step), TreatmentSession.Phase.INDUCTION)
                    for i in range(int(count))
                ]
            if rng.random() < 0.5:
                last = targets[-1][0]
                interval = protocol.maintenance_interval_days
                targets += [
                    (last + dt.timedelta(days=interval * j), TreatmentSession.Phase.MAINTENANCE)
                    for j in range(1, rng.randint(1, 3) + 1)
                ]
            course = _Course(patient=take_patient(day), protocol=protocol_index)
            previous: dt.date | None = None
            for target, phase in targets[:remaining]:
                if previous is not None and target <= previous:
                    target = previous + dt.timedelta(days=1)
                found = place(target, length)
                if found is None:
                    break
                placed_day, pair, begin = found
                chair, clinician = placed_day.pairs[pair]
                course.sessions.append(
                    _Session(len(courses), len(course.sessions) + 1, phase, placed_day.date, chair, clinician, begin)
                )
                previous = placed_day.date
            if not course.sessions:
                break
            remaining -= len(course.sessions)
            first_day, last_day = course.sessions[0].day, course.sessions[-1].day
            course.cancelled = first_day >= as_of and rng.random() < 0.01
            if last_day < as_of:
                heapq.heappush(free, (last_day + dt.timedelta(days=rng.randint(14, 90)), course.patient))
            courses.append(course)
            started = True
            if first_day != day:
                break  # the day is full for this protocol
        idle_days = 0 if started else idle_days + 1
        if idle_days > 60:
            raise RuntimeError("no course could start for 60 days: no clinician on duty or no room")
        day += dt.timedelta(days=1)

    last_day = max(c.sessions[-1].day for c in courses)
    for year in range(start.year, last_day.year + 2):
        holidays.update(_holidays(year))
    built = time.perf_counter()
    counts = _write(
        rng=rng,
        zone=zone,
        start=start,
        last_day=last_day,
        as_of=as_of,
        as_of_instant=as_of_instant,
        monday0=monday0,
        chairs=chairs,
        clinicians=clinicians,
        therapists=therapists,
        patient_count=patient_count,
        protocols=protocols,
        courses=courses,
        holidays=holidays,
        appointment_share=appointment_share,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "seed": seed,
        "start": start.isoformat(),
        "last_day": last_day.isoformat(),
        "as_of": as_of.isoformat(),
        "chairs": chairs,
        "clinicians": clinicians,
        "therapists": therapists,
        "patients": patient_count,
        "courses": len(courses),
        **counts,
        "layout_seconds": round(built - began, 2),
        "seconds": round(time.perf_counter() - began, 2),
    }


def _write(
    *,
    rng: random.Random,
    zone: ZoneInfo,
    start: dt.date,
    last_day: dt.date,
    as_of: dt.date,
    as_of_instant: dt.datetime,
    monday0: dt.date,
    chairs: int,
    clinicians: int,
    therapists: int,
    patient_count: int,
    protocols: list[TreatmentProtocol],
    courses: list[_Course],
    holidays: dict[dt.date, str],
    appointment_share: float,
) -> dict[str, Any]:
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    groups = {g.name: g for g in Group.objects.all()}
    weeks = _week(last_day, monday0) + 8
    with transaction.atomic():
        ClinicHours.objects.bulk_create(
            ClinicHours(weekday=w, opens=_time(o), closes=_time(c)) for w, (o, c) in CLINIC_HOURS.items()
        )
        ClosureDay.objects.bulk_create(
            ClosureDay(date=d, reason=r)
            for d, r in sorted(holidays.items())
            if start <= d <= last_day + dt.timedelta(days=60)
        )
        chair_rows = Chair.objects.bulk_create(
            Chair(name=f"Chair {n + 1:02d}", location=f"Treatment room {n + 1}") for n in range(chairs)
        )

        people = (
            [("clinician", k, Role.CLINICIAN) for k in range(clinicians)]
            + [("therapist", t, Role.THERAPIST) for t in range(therapists)]
            + [("frontdesk", 0, Role.FRONT_DESK), ("admin", 0, Role.ADMINISTRATOR)]
        )
        users = user_model.objects.bulk_create(
            user_model(
                username=f"bench.{kind}.{n + 1}",
                email=f"bench.{kind}.{n + 1}@example.org",
                password="!",  # unusable: these logins exist for their roles, not to sign in with
                is_staff=True,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            for kind, n, role in people
        )
        user_model.groups.through.objects.bulk_create(
            user_model.groups.through(user_id=u.pk, group_id=groups[role].pk)
            for u, (_, _, role) in zip(users, people, strict=True)
        )
        staff = StaffMember.objects.bulk_create(
            StaffMember(
                user=u,
                role=role,
                clinician_kind=(
                    (StaffMember.ClinicianKind.PRESCRIBER if n % 4 == 0 else StaffMember.ClinicianKind.NURSE)
                    if role == Role.CLINICIAN
                    else ""
                ),
                display_name=f"{kind.title()} {n + 1:02d}",
            )
            for u, (kind, n, role) in zip(users, people, strict=True)
        )
        clinician_rows, therapist_rows = staff[:clinicians], staff[clinicians : clinicians + therapists]
        hours: list[WorkingHours] = []
        off: list[TimeOff] = []
        for k, member in enumerate(clinician_rows):
            hours += [
                WorkingHours(staff=member, weekday=w, starts=_time(CLINIC_HOURS[w][0]), ends=_time(CLINIC_HOURS[w][1]))
                for w in sorted(_clinician_weekdays(k))
            ]
            off += _time_off(member, k, clinicians, 0, weeks, monday0, zone)
        for t, member in enumerate(therapist_rows):
            hours += [
                WorkingHours(
                    staff=member, weekday=w, starts=_time(THERAPIST_HOURS[w][0]), ends=_time(THERAPIST_HOURS[w][1])
                )
                for w in sorted(_therapist_weekdays(t))
            ]
            off += _time_off(member, t, therapists, 6, weeks, monday0, zone)
        WorkingHours.objects.bulk_create(hours, batch_size=BATCH)
        TimeOff.objects.bulk_create(off, batch_size=BATCH)

        patient_rows = Patient.objects.bulk_create(
            (
                Patient(
                    first_name=FIRST_NAMES[p % len(FIRST_NAMES)],
                    last_name=f"{LAST_NAMES[(p // len(FIRST_NAMES)) % len(LAST_NAMES)]}",
                    date_of_birth=dt.date(1950 + p % 50, 1 + p % 12, 1 + p % 28),
                    phone=f"+1555{p:07d}",
                    email=f"patient{p}@example.com",
                    time_zone=str(zone.key),
                )
                for p in range(patient_count)
            ),
            batch_size=BATCH,
        )
        screener = users[0]
        screenings = Screening.objects.bulk_create(
            (
                Screening(
                    patient=patient,
                    clinician=screener,
                    performed_on=start - dt.timedelta(days=30),
                    valid_until=last_day + dt.timedelta(days=730),
                    contraindications_checked=list(Contraindication.values),
                    informed_consent_off_label=True,
                    outcome=Screening.Outcome.ELIGIBLE,
                    notes="Generated for a benchmark.",
                )
                for patient in patient_rows
            ),
            batch_size=BATCH,
        )

        course_rows: list[Course] = []
        for course in courses:
            days = [x.day for x in course.sessions]
            if course.cancelled:
                status = Course.Status.CANCELLED
            elif days[-1] < as_of:
                status = Course.Status.COMPLETED
            elif days[0] < as_of:
                induction_left = any(
                    x.day >= as_of and x.phase == TreatmentSession.Phase.INDUCTION for x in course.sessions
                )
                status = Course.Status.INDUCTION if induction_left else Course.Status.MAINTENANCE
            else:
                status = Course.Status.PLANNED
            course_rows.append(
                Course(
                    patient=patient_rows[course.patient],
                    protocol=protocols[course.protocol],
                    screening=screenings[course.patient],
                    status=status,
                    cancelled_at=as_of_instant - dt.timedelta(days=1) if course.cancelled else None,
                    cancel_reason="Patient asked to stop." if course.cancelled else "",
                )
            )
        Course.objects.bulk_create(course_rows, batch_size=BATCH)
        session_rows: list[TreatmentSession] = []
        session_protocols: list[TreatmentProtocol] = []
        for course, course_row in zip(courses, course_rows, strict=True):
            protocol = protocols[course.protocol]
            for planned in course.sessions:
                session_rows.append(
                    _session_row(
                        planned,
                        course=course,
                        course_row=course_row,
                        chair=chair_rows[planned.chair],
                        clinician=clinician_rows[planned.clinician],
                        protocol=protocol,
                        zone=zone,
                        as_of=as_of,
                        as_of_instant=as_of_instant,
                        rng=rng,
                    )
                )
                session_protocols.append(protocol)
        TreatmentSession.objects.bulk_create(session_rows, batch_size=BATCH)

        appointment_minutes = dt.timedelta(minutes=settings.INTEGRATION_APPOINTMENT_MINUTES)
        taken: set[tuple[int, dt.datetime]] = set()
        window_rows: list[IntegrationWindow] = []
        appointment_slots: list[tuple[int, int, dt.datetime, str]] = []
        for index, (session, protocol) in enumerate(zip(session_rows, session_protocols, strict=True)):
            opens = session.ends_at + dt.timedelta(hours=protocol.window_opens_after_hours)
            closes = session.ends_at + dt.timedelta(hours=protocol.window_closes_after_hours)
            keeps_time = session.status in TreatmentSession.OCCUPYING_STATUSES
            window = IntegrationWindow(
                session=session,
                patient_id=session.patient_id,
                opens_at=opens,
                closes_at=closes,
                cancelled_at=None if keeps_time else (session.cancelled_at or session.starts_at),
                opened_at=opens if keeps_time and opens < as_of_instant else None,
                closed_at=closes if keeps_time and closes < as_of_instant else None,
            )
            window_rows.append(window)
            if not keeps_time or rng.random() >= appointment_share:
                continue
            slot = _therapist_slot(
                opens, closes, therapists, index, taken, appointment_minutes, zone, holidays, monday0
            )
            if slot is None:
                continue
            therapist, begins = slot
            taken.add((therapist, begins))
            if begins >= as_of_instant:
                appointment_status = IntegrationAppointment.Status.BOOKED
            else:
                appointment_status = (
                    IntegrationAppointment.Status.ATTENDED
                    if rng.random() < 0.9
                    else IntegrationAppointment.Status.MISSED
                )
            appointment_slots.append((index, therapist, begins, appointment_status))
        attended = {i for i, _, _, status in appointment_slots if status == IntegrationAppointment.Status.ATTENDED}
        for index, window in enumerate(window_rows):
            if window.closed_at is not None:
                window.integration_took_place = index in attended
        IntegrationWindow.objects.bulk_create(window_rows, batch_size=BATCH)
        IntegrationAppointment.objects.bulk_create(
            (
                IntegrationAppointment(
                    window=window_rows[index],
                    patient_id=window_rows[index].patient_id,
                    therapist=therapist_rows[therapist],
                    starts_at=begins,
                    ends_at=begins + appointment_minutes,
                    status=status,
                )
                for index, therapist, begins, status in appointment_slots
            ),
            batch_size=BATCH,
        )
    by_status: dict[str, int] = {}
    for row in session_rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
    return {
        "sessions": len(session_rows),
        "sessions_by_status": dict(sorted(by_status.items())),
        "windows": len(window_rows),
        "appointments": len(appointment_slots),
        "time_off": len(off),
    }


def build_reminders(*, count: int = 60000, as_of: dt.date, seed: int = 1) -> dict[str, Any]:
    """Write ``count`` reminder rows for the clinic ``build_year_clinic`` wrote, as the outbox would.

    Each subject (a session that kept its time, an appointment that did) gets its patient's
    reminders from the default plan (``DEFAULT_REMINDER_PLAN``: kinds, offsets, channels, quiet
    hours), computed by the services' own function; subjects are taken in a random order (the
    seed's) until ``count`` rows, the last one's plan cut short. A reminder due before ``as_of``
    was sent (claimed, then sent a few seconds later, with a provider message id); a later one
    about a scheduled session or a booked appointment is pending. So the rows keep every rule the
    outbox's constraints state: one recipient, a message id on every sent row, at most one live
    row per kind, channel and subject. Returns the counts by status and kind.
    """
    from reminders.models import APPOINTMENT_KINDS, SESSION_KINDS, Reminder
    from reminders.services.outbox import _patient_wanted
    from reminders.services.plan import DEFAULT_REMINDER_PLAN

    if Reminder.objects.exists():
        raise RuntimeError("build_reminders expects a clinic without reminders")
    rng = random.Random(seed)
    zone = ZoneInfo(settings.TIME_ZONE)
    as_of_instant = local_instant(as_of, dt.time(0), zone)
    assert as_of_instant is not None
    patients = {p.pk: p for p in Patient.objects.all()}
    subjects: list[tuple[str, Any, Sequence[str]]] = [
        ("session", s, SESSION_KINDS)
        for s in TreatmentSession.objects.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).order_by("id")
    ]
    subjects += [
        ("appointment", a, APPOINTMENT_KINDS)
        for a in IntegrationAppointment.objects.exclude(status=IntegrationAppointment.Status.CANCELLED).order_by("id")
    ]
    rng.shuffle(subjects)
    rows: list[Reminder] = []
    for field_name, subject, kinds in subjects:
        if len(rows) >= count:
            break
        patient = patients[subject.patient_id]
        wanted = _patient_wanted(
            patient=patient,
            lines=DEFAULT_REMINDER_PLAN,
            kinds=kinds,
            anchor=subject.starts_at,
            revision=subject.revision,
        )
        for want in wanted[: count - len(rows)]:
            row = Reminder(
                kind=want.kind,
                channel=want.channel,
                patient=patient,
                anchor_at=want.anchor_at,
                subject_revision=want.subject_revision,
                planned_at=want.planned_at,
                due_at=want.due_at,
                **{field_name: subject},
            )
            if want.due_at < as_of_instant:
                row.status = Reminder.Status.SENT
                row.attempts = 1
                row.claimed_at = want.due_at
                row.sent_at = want.due_at + dt.timedelta(seconds=rng.randint(1, 30))
                row.provider_message_id = f"generated-{len(rows) + 1}"
            elif subject.status not in ("scheduled", "booked"):
                continue  # only a scheduled session or a booked appointment has live reminders
            rows.append(row)
    if len(rows) < count:
        raise RuntimeError(f"the clinic's subjects call for {len(rows)} reminders, fewer than {count}")
    with transaction.atomic():
        Reminder.objects.bulk_create(rows, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE treatment_sessions_reminder")
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
        by_kind[row.kind] = by_kind.get(row.kind, 0) + 1
    return {
        "reminders": len(rows),
        "by_status": dict(sorted(by_status.items())),
        "by_kind": dict(sorted(by_kind.items())),
    }


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _session_row(
    s: _Session,
    *,
    course: _Course,
    course_row: Course,
    chair: Chair,
    clinician: StaffMember,
    protocol: TreatmentProtocol,
    zone: ZoneInfo,
    as_of: dt.date,
    as_of_instant: dt.datetime,
    rng: random.Random,
) -> TreatmentSession:
    starts = local_instant(s.day, _time(s.start_minute), zone)
    assert starts is not None  # clinic hours are far from the small hours where DST jumps
    starts = starts.astimezone(UTC)
    ends = starts + dt.timedelta(minutes=protocol.session_minutes)
    roll = rng.random()
    status = TreatmentSession.Status.SCHEDULED
    if course.cancelled or roll < 0.02:
        status = TreatmentSession.Status.CANCELLED
    elif s.day < as_of:
        if roll < 0.04:
            status = TreatmentSession.Status.NO_SHOW
        elif roll < 0.055:
            status = TreatmentSession.Status.HELD
        else:
            status = TreatmentSession.Status.COMPLETED
    past = s.day < as_of
    return TreatmentSession(
        course=course_row,
        patient_id=course_row.patient_id,
        sequence=s.sequence,
        phase=s.phase,
        chair=chair,
        clinician=clinician,
        starts_at=starts,
        ends_at=ends,
        local_date=s.day,
        status=status,
        hold_reason=HOLD_REASON if status == TreatmentSession.Status.HELD else "",
        ride_home_confirmed=past or rng.random() < 0.5,
        checked_in_at=starts - dt.timedelta(minutes=10) if status == TreatmentSession.Status.COMPLETED else None,
        completed_at=ends if status == TreatmentSession.Status.COMPLETED else None,
        cancelled_at=(
            min(starts - dt.timedelta(days=2), as_of_instant - dt.timedelta(hours=1))
            if status == TreatmentSession.Status.CANCELLED
            else None
        ),
        dose_mg=(
            Decimal("40.00")
            if status == TreatmentSession.Status.COMPLETED and protocol.route != "esketamine_nasal"
            else (Decimal("84.00") if status == TreatmentSession.Status.COMPLETED else None)
        ),
        revision=1 if status == TreatmentSession.Status.CANCELLED else 0,
    )


def _time_off(
    member: StaffMember, index: int, count: int, shift: int, weeks: int, monday0: dt.date, zone: ZoneInfo
) -> list[TimeOff]:
    rows = []
    for week in range(weeks):
        if _off_week(index, count, week, shift):
            first = monday0 + dt.timedelta(days=7 * week)
            begins = local_instant(first, dt.time(0), zone)
            ends = local_instant(first + dt.timedelta(days=7), dt.time(0), zone)
            assert begins is not None and ends is not None
            rows.append(TimeOff(staff=member, starts_at=begins, ends_at=ends, reason="Leave"))
    return rows


def _therapist_slot(
    opens: dt.datetime,
    closes: dt.datetime,
    therapists: int,
    turn: int,
    taken: set[tuple[int, dt.datetime]],
    length: dt.timedelta,
    zone: ZoneInfo,
    holidays: dict[dt.date, str],
    monday0: dt.date,
) -> tuple[int, dt.datetime] | None:
    """The earliest (therapist, start) inside [opens, closes) on the appointment grid, or None."""
    step = max(GRID_MINUTES, _round_up(int(length.total_seconds() // 60)))
    first = opens.astimezone(zone).date()
    for offset in range(3):
        day = first + dt.timedelta(days=offset)
        hours = THERAPIST_HOURS.get(day.weekday())
        if hours is None or day in holidays:
            continue
        week = _week(day, monday0)
        for minute in range(hours[0], hours[1] - step + 1, step):
            begins = local_instant(day, _time(minute), zone)
            if begins is None or begins < opens or begins + length > closes:
                continue
            for i in range(therapists):
                t = (turn + i) % therapists
                if (
                    day.weekday() in _therapist_weekdays(t)
                    and not _off_week(t, therapists, week, 6)
                    and (t, begins) not in taken
                ):
                    return t, begins
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--start", type=dt.date.fromisoformat, help="first day (default: as_of is today)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="the data's today (default: halfway)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--chairs", type=int, default=12)
    parser.add_argument("--clinicians", type=int, default=18)
    parser.add_argument("--therapists", type=int, default=6)
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--occupancy", type=float, default=0.85)
    parser.add_argument("--reminders", type=int, default=0, help="then write this many reminders (build_reminders)")
    parser.add_argument("--migrate", action="store_true", help="run migrate first")
    args = parser.parse_args(argv)
    if args.migrate:
        call_command("migrate", verbosity=0)
    start, as_of = args.start, args.as_of
    if start is None:
        from django.utils import timezone

        today = timezone.localdate()
        half = _estimated_days(sessions=args.sessions, chairs=args.chairs, occupancy=args.occupancy) // 2
        start = today - dt.timedelta(days=half)
        start -= dt.timedelta(days=start.weekday())
        as_of = as_of or today
    summary = build_year_clinic(
        start=start,
        as_of=as_of,
        seed=args.seed,
        chairs=args.chairs,
        clinicians=args.clinicians,
        therapists=args.therapists,
        patients=args.patients,
        sessions=args.sessions,
        occupancy=args.occupancy,
    )
    if args.reminders:
        summary["reminders"] = build_reminders(
            count=args.reminders, as_of=dt.date.fromisoformat(summary["as_of"]), seed=args.seed
        )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
