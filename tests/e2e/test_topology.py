"""The production topology, end to end: gunicorn with two workers, two Celery workers and one
beat, as separate processes on the real PostgreSQL (the test database) and Redis, DEBUG off.

Everything a person does goes over HTTP: registering patients, screening them, previewing and
booking their courses all at once (some of them competing for the same chair or clinician at the
same time), moving and cancelling sessions and courses. Time passes for real, in short offsets:
the clinic is open around the clock, the first session of every course starts a few minutes
after the booking, and the protocol's reminder plan counts in minutes, so its reminders fall due
during the test. One Celery worker is killed with SIGKILL while a text it delivered is not yet
recorded (the provider is slow to answer); the other worker takes the batch over once the lease
expires.

Then: no 5xx, no overlapping sessions, as many 409s as deliberate competitors that lost, every
due reminder sent and delivered once (a repeat provider call absorbed by the idempotency key),
and nothing delivered about a session cancelled before the reminder's time.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from django.db.models import Max
from django.utils import timezone

from clinic.models import Chair, ClinicHours, StaffMember
from courses.models import Course, TreatmentProtocol
from ketaminecare.roles import Role
from patients.models import Contraindication
from reminders.models import NOTICE_KINDS, PLANNED_KINDS, Reminder, ReminderKind, ReminderRule
from reminders.services.outbox import REASON_PAST
from sessions.models import TreatmentSession
from tests import factories
from tests.e2e.evidence import (
    access_log_statuses,
    callers,
    django_request_lines,
    emails_by_key,
    overlaps,
    reminder_id,
    sms_calls,
    sms_delivered,
)
from tests.e2e.topology import Answer, Api, Service, free_port, tail, wait_for, with_server_password
from tests.reminders.worker_process import WorkerProcess, database_url
from tests.runtime import runtime_bin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.e2e]

Status = Reminder.Status
PASSWORD = "e2e-topology-pass"
# From the booking race to the start of every course's first session. The plan's reminders go
# 2 and 1 minutes before it: the first wave half a minute after the race, the second a minute
# later, each with time to spare before the session starts.
LEAD = dt.timedelta(seconds=150)
PLAN = (
    # kind, minutes before the session, by SMS, by email
    (ReminderKind.SESSION_CONFIRM, 60, True, True),  # already past when booked: never written
    (ReminderKind.SESSION_PREPARE, 2, True, True),
    (ReminderKind.SESSION_SOON, 1, True, False),
)
SOLO = 11  # patients with a chair and a clinician of their own
# Three patients each, asking for the same time: one of each group gets it, two get 409.
GROUPS = ("same chair and clinician", "same chair", "same clinician")
AVAILABILITY = {"chair_unavailable", "clinician_unavailable", "patient_unavailable"}


def midday_zone(now: dt.datetime) -> str:
    """A fixed-offset IANA zone in which it is about noon now, so that the courses' sessions sit
    mid-day whatever hour the run starts at (a session may not cross midnight)."""
    offset = 12 - now.astimezone(dt.UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # the Etc/ names count westward


# ---------------------------------------------------------------------------------------------
# The topology


@dataclass
class Topology:
    api: Api
    zone: ZoneInfo
    sms_dir: Path
    mail_dir: Path
    logs_dir: Path
    workers: dict[str, WorkerProcess]
    services: dict[str, Service]
    answers: list[Answer]

    def logs(self) -> str:
        return "\n".join(tail(path) for path in sorted(self.logs_dir.glob("*.log")))


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        pytest.fail("this test needs the real Redis: set REDIS_URL=redis://... (see README)")
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url}: {exc}")
    client.flushdb()  # this suite's own Redis database: no task or throttle count left over
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def topology(transactional_db: None, broker: redis.Redis, tmp_path: Path, settings: Any) -> Iterator[Topology]:
    """Start web, workers and beat on the test database; stop every process group at the end."""
    zone = midday_zone(timezone.now())
    settings.TIME_ZONE = zone
    port = free_port()
    sms_dir, mail_dir, logs_dir = tmp_path / "sms", tmp_path / "mail", tmp_path / "logs"
    logs_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ketaminecare.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        # The production settings: DEBUG off, a secret, one host, JSON logs, SSL redirect on.
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "json",
        "TIME_ZONE": zone,
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # Short periods so that minutes of a clinic's life fit in the test; the lease outlives
        # three provider calls at their timeout, as the settings require.
        "REMINDER_SWEEP_SECONDS": "2",
        "REMINDER_BATCH_SIZE": "3",
        "REMINDER_LEASE_SECONDS": "15",
        "REMINDER_SEND_TIMEOUT_SECONDS": "5",
        "CELERY_TASK_TIME_LIMIT": "10",
        "CELERY_TASK_SOFT_TIME_LIMIT": "8",
        "REMINDER_RETRY_BASE_SECONDS": "2",
        "REMINDER_SMS_BACKEND": "tests.e2e.providers.SlowFileSMSBackend",
        "REMINDER_SMS_DIR": str(sms_dir),
        "EMAIL_BACKEND": "tests.e2e.providers.SlowFileEmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    services = {
        "web": Service(
            "web",
            [runtime_bin("gunicorn"), "-c", "gunicorn.conf.py", "ketaminecare.wsgi"],
            env=env,
            log=logs_dir / "web.log",
        ),
        "beat": Service(
            "beat",
            [runtime_bin("celery"), "-A", "ketaminecare", "beat", "-l", "info", "-s", str(tmp_path / "beat-schedule")],
            env=env,
            log=logs_dir / "beat.log",
        ),
    }
    workers = {
        name: WorkerProcess(env=env, log=logs_dir / f"worker-{name}.log", concurrency=2, name=f"e2e-{name}")
        for name in ("a", "b")
    }
    answers: list[Answer] = []
    top = Topology(
        Api(port, answers, threading.Lock()), ZoneInfo(zone), sms_dir, mail_dir, logs_dir, workers, services, answers
    )
    try:
        for service in services.values():
            service.start()
        for worker in workers.values():
            worker.start()

        def web_up() -> bool:
            if not services["web"].running:
                pytest.fail(f"gunicorn exited\n{top.logs()}")
            return top.api.healthy()

        wait_for(web_up, what="GET /health/ to answer 200", timeout=90, logs=top.logs)
        yield top
    finally:
        failures = []
        for stop in [w.stop for w in workers.values()] + [s.stop for s in services.values()]:
            try:
                stop()
            except Exception as exc:  # stop the others anyway, then report it
                failures.append(exc)
        if failures:
            raise failures[0]


# ---------------------------------------------------------------------------------------------
# The clinic (written in the database: staff, chairs, hours, the protocol and its plan)


@dataclass
class Clinic:
    chairs: list[Chair]
    clinicians: list[StaffMember]
    front_desk: StaffMember
    protocol: TreatmentProtocol


def open_clinic() -> Clinic:
    """Open around the clock every day, 16 chairs, 16 clinicians working whenever it is open."""
    always = {"opens": dt.time(0), "closes": dt.time(23, 59)}
    for weekday in range(7):
        ClinicHours.objects.update_or_create(weekday=weekday, defaults=always)
    clinicians = [
        factories.staff(Role.CLINICIAN, weekdays=range(7), starts=dt.time(0), ends=dt.time(23, 59)) for _ in range(16)
    ]
    front_desk = factories.StaffMemberFactory(role=Role.FRONT_DESK)
    protocol = factories.ProtocolFactory(
        name="Two sessions over two days",
        weekly_cadence=[2],
        induction_sessions_min=2,
        induction_sessions_max=3,
        induction_span_min_days=1,
        induction_span_max_days=7,
        min_gap_hours=20,
        infusion_minutes=20,
        monitoring_minutes=10,
    )
    for kind, minutes, sms, email in PLAN:
        ReminderRule.objects.create(
            protocol=protocol, kind=kind, minutes_before=minutes, send_sms=sms, send_email=email
        )
    with_server_password(PASSWORD, front_desk.user)
    with_server_password(PASSWORD, clinicians[0].user)
    return Clinic([factories.ChairFactory() for _ in range(16)], clinicians, front_desk, protocol)


@dataclass
class Seat:
    """One patient of the race: the chair and clinician asked for, the group competed in."""

    index: int
    chair: int
    clinician: int
    group: str = ""
    patient: int = 0
    proposal: dict[str, Any] = field(default_factory=dict)
    course: dict[str, Any] | None = None

    def session(self, sequence: int) -> dict[str, Any]:
        assert self.course is not None
        return next(s for s in self.course["sessions"] if s["sequence"] == sequence)


def seats_for(clinic: Clinic) -> list[Seat]:
    chairs = [c.pk for c in clinic.chairs]
    staff = [c.pk for c in clinic.clinicians]
    seats = [Seat(i, chairs[i], staff[i]) for i in range(SOLO)]
    for _ in range(3):
        seats.append(Seat(len(seats), chairs[11], staff[11], GROUPS[0]))
    for n in range(3):
        seats.append(Seat(len(seats), chairs[12], staff[12 + n], GROUPS[1]))
    for n in range(3):
        seats.append(Seat(len(seats), chairs[13 + n], staff[15], GROUPS[2]))
    return seats


# ---------------------------------------------------------------------------------------------
# Watching the reminders


class Killer:
    """SIGKILLs a worker once it has delivered a text it has not yet recorded (still sending)."""

    def __init__(self, worker: WorkerProcess, sms_dir: Path) -> None:
        self.worker = worker
        self.sms_dir = sms_dir
        self.killed_at: dt.datetime | None = None
        self.in_flight: set[int] = set()

    def poll(self) -> None:
        if self.killed_at is not None:
            return
        pids = set(self.worker.pids)
        ids = {reminder_id(key) for pid, key in callers(self.sms_dir) if pid in pids}
        if not ids or not Reminder.objects.filter(pk__in=ids, status=Status.SENDING, channel="sms").exists():
            return
        self.worker.kill(signal.SIGKILL)
        self.killed_at = timezone.now()
        # Delivered, and still sending now that the worker is gone: its record never committed.
        self.in_flight = set(Reminder.objects.filter(pk__in=ids, status=Status.SENDING).values_list("pk", flat=True))


def settled(before: dt.datetime) -> bool:
    """Every reminder due by ``before`` has been dealt with (sent, cancelled, ...) and it is past."""
    if timezone.now() <= before:
        return False
    unfinished = (*Reminder.LIVE_STATUSES, Reminder.Status.SENDING)
    return not Reminder.objects.filter(status__in=unfinished, due_at__lte=before).exists()


# ---------------------------------------------------------------------------------------------
# The test


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def iso(instant: dt.datetime) -> str:
    return instant.isoformat()


def test_the_production_topology_books_moves_cancels_and_reminds_once_through_a_worker_crash(
    topology: Topology, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    top = topology
    clinic = open_clinic()
    front_desk = top.api.login(clinic.front_desk.user.username, PASSWORD)
    clinician = top.api.login(clinic.clinicians[0].user.username, PASSWORD)
    seats = seats_for(clinic)
    today = timezone.localdate()

    # 1. Register every patient, with no quiet hours (start == end), and screen them.
    def register(seat: Seat) -> None:
        created = front_desk.call(
            "POST",
            "/api/v1/patients/",
            {
                "first_name": f"Robin{seat.index:02d}",
                "last_name": "Quillfeather",
                "date_of_birth": "1981-05-05",
                "phone": f"+1555700{seat.index:04d}",
                "email": f"robin{seat.index:02d}@example.org",
            },
        )
        assert created.status == 201, created
        seat.patient = created.body["id"]
        quiet = front_desk.call(
            "PATCH", f"/api/v1/patients/{seat.patient}/", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
        )
        assert quiet.status == 200, quiet
        screened = clinician.call(
            "POST",
            "/api/v1/screenings/",
            {
                "patient": seat.patient,
                "performed_on": today.isoformat(),
                "outcome": "eligible",
                "valid_until": (today + dt.timedelta(days=180)).isoformat(),
                "informed_consent_off_label": True,
                "contraindications_checked": list(Contraindication.values),
            },
        )
        assert screened.status == 201, screened

    in_parallel([lambda seat=seat: register(seat) for seat in seats])
    registered = time.monotonic()

    # 2. The race: every patient's course previewed at once (first session at ``first``, today,
    # in the chair and with the clinician asked for), then every preview booked at once.
    race = timezone.now()
    first = (race + LEAD).replace(microsecond=0)
    wall = first.astimezone(top.zone).strftime("%H:%M:%S")

    def preferences(seat: Seat) -> dict[str, Any]:
        return {"earliest": wall, "latest": wall, "chair": seat.chair, "clinician": seat.clinician}

    def propose(seat: Seat) -> None:
        answer = front_desk.call(
            "POST",
            "/api/v1/courses/propose/",
            {
                "patient": seat.patient,
                "protocol": clinic.protocol.pk,
                "first_date": first.astimezone(top.zone).date().isoformat(),
                "preferences": preferences(seat),
            },
        )
        assert answer.status == 200 and answer.body["feasible"], answer
        opening = answer.body["sessions"][0]
        assert dt.datetime.fromisoformat(opening["starts_at"]) == first, answer
        assert (opening["chair"], opening["clinician"]) == (seat.chair, seat.clinician), answer
        seat.proposal = answer.body

    def book(seat: Seat) -> Answer:
        answer = front_desk.call(
            "POST",
            "/api/v1/courses/",
            {
                "patient": seat.patient,
                "protocol": clinic.protocol.pk,
                "sessions": [
                    {"starts_at": s["starts_at"], "chair": s["chair"], "clinician": s["clinician"]}
                    for s in seat.proposal["sessions"]
                ],
                "preferences": preferences(seat),
            },
            label=f"book {seat.group or 'solo'}",
            deliberate=bool(seat.group),
        )
        if answer.status == 201:
            seat.course = answer.body
        return answer

    in_parallel([lambda seat=seat: propose(seat) for seat in seats])
    booked = in_parallel([lambda seat=seat: book(seat) for seat in seats])
    for seat, answer in zip(seats, booked, strict=True):
        if not seat.group:
            assert answer.status == 201, answer
    for group in GROUPS:
        outcomes = sorted(a.status for s, a in zip(seats, booked, strict=True) if s.group == group)
        assert outcomes == [201, 409, 409], (group, [a for s, a in zip(seats, booked, strict=True) if s.group == group])
    expected_losers = 2 * len(GROUPS)

    # 3. Changes before the first wave of reminders is due: moves (two of them racing for one
    # chair, two onto time already taken) and cancellations.
    solo = seats[:SOLO]
    later = first + dt.timedelta(minutes=40)

    def reschedule(seat: Seat, sequence: int, body: dict[str, Any], *, deliberate: bool = False) -> Answer:
        session = seat.session(sequence)
        return front_desk.call(
            "POST", f"/api/v1/sessions/{session['id']}/reschedule/", body, label="reschedule", deliberate=deliberate
        )

    def cancel_session(seat: Seat, sequence: int) -> Answer:
        session = seat.session(sequence)
        return front_desk.call("POST", f"/api/v1/sessions/{session['id']}/cancel/", {"reason": "The patient called"})

    def cancel_course(seat: Seat) -> Answer:
        assert seat.course is not None
        return front_desk.call(
            "POST", f"/api/v1/courses/{seat.course['id']}/cancel/", {"reason": "The patient withdrew"}
        )

    second_of_2 = dt.datetime.fromisoformat(solo[2].session(2)["starts_at"])
    early = in_parallel(
        [
            # Two moves racing for one chair at one time: one gets it.
            lambda: reschedule(solo[0], 1, {"starts_at": iso(later)}, deliberate=True),
            lambda: reschedule(solo[10], 1, {"starts_at": iso(later), "chair": solo[0].chair}, deliberate=True),
            # Onto a chair, then a clinician, that another patient holds at that time: refused.
            lambda: reschedule(solo[5], 1, {"starts_at": iso(first), "chair": solo[6].chair}, deliberate=True),
            lambda: reschedule(solo[7], 1, {"starts_at": iso(first), "clinician": solo[8].clinician}, deliberate=True),
            # Earlier by half a minute: the first wave's reminder is then past (cancelled).
            lambda: reschedule(solo[1], 1, {"starts_at": iso(first - dt.timedelta(seconds=30))}),
            lambda: reschedule(solo[2], 2, {"starts_at": iso(second_of_2 + dt.timedelta(days=1))}),
            lambda: cancel_session(solo[3], 1),
            lambda: cancel_course(solo[4]),
        ]
    )
    assert sorted(a.status for a in early[:2]) == [200, 409], early[:2]
    assert [a.status for a in early[2:4]] == [409, 409], early[2:4]
    assert [a.status for a in early[4:]] == [200] * 4, early[4:]
    expected_losers += 3
    changed = time.monotonic()

    # 4. The first wave falls due; worker "a" is killed while a text it delivered is not yet
    # recorded. Its rows stay leased until the lease runs out, then worker "b" sends them.
    killer = Killer(top.workers["a"], top.sms_dir)

    def wave_done(before: dt.datetime) -> Callable[[], bool]:
        def check() -> bool:
            killer.poll()
            return settled(before)

        return check

    wave_1 = first - dt.timedelta(seconds=100)
    wait_for(wave_done(wave_1), what="the first wave of reminders sent", timeout=120, every=0.05, logs=top.logs)

    # 5. Changes after the first wave went out and before the second is due.
    late = in_parallel(
        [lambda: cancel_session(solo[6], 1), lambda: cancel_course(solo[8]), lambda: cancel_session(solo[9], 2)]
    )
    assert [a.status for a in late] == [200] * 3, late

    # 6. The second wave, and every reminder due before the first sessions start.
    last_due = Reminder.objects.filter(due_at__lt=first).aggregate(last=Max("due_at"))["last"]
    assert last_due is not None
    wait_for(wave_done(last_due), what="every due reminder sent or cancelled", timeout=120, every=0.05, logs=top.logs)
    settled_at = time.monotonic()

    # ---- No 5xx, and a 409 for exactly each deliberate competitor that lost.
    statuses = collections.Counter(a.status for a in top.answers)
    assert not [a for a in top.answers if a.status == 0 or a.status >= 500], top.logs()
    assert not [a for a in top.answers if not a.deliberate and not 200 <= a.status < 300]
    conflicts = [a for a in top.answers if a.status == 409]
    assert len(conflicts) == expected_losers, conflicts
    assert all(a.deliberate and a.body.get("rule") in AVAILABILITY for a in conflicts), conflicts
    served = access_log_statuses(top.services["web"].log)
    assert not [s for s in served if s >= 500], served
    refusals = django_request_lines(top.services["web"].log)
    assert len(refusals) == len(conflicts) and all(line["request_id"] != "-" for line in refusals), refusals
    for path in top.logs_dir.glob("*.log"):
        text = path.read_text(errors="replace")
        assert not re.search(r"Robin|Quillfeather|\+1555700|example\.org", text), f"personal data in {path.name}"
    assert Course.objects.count() == SOLO + len(GROUPS)

    # ---- No chair, clinician or patient holds two active sessions at once.
    assert overlaps() == {"chair_id": [], "clinician_id": [], "patient_id": []}

    # ---- Every reminder due is sent, or cancelled with its session (or by a move to the past).
    rows = list(Reminder.objects.filter(due_at__lte=last_due).select_related("session"))
    # An hour before today's sessions was already past when they were booked: not written.
    today_confirm = Reminder.objects.filter(kind=ReminderKind.SESSION_CONFIRM, anchor_at__lte=later)
    assert not today_confirm.exists(), "a plan line in the past was written"
    assert Reminder.objects.filter(kind=ReminderKind.SESSION_CONFIRM, anchor_at__gt=later).exists()
    assert not Reminder.objects.filter(status__in=[Status.FAILED, Status.SKIPPED]).exists()
    for row in rows:
        if row.kind in NOTICE_KINDS:
            # A change notice goes at once; one replaced by a later change never goes.
            assert row.status in (Status.SENT, Status.CANCELLED), row
            continue
        session = row.session
        assert session is not None
        if row.status == Status.SENT:
            # About the session's time as it is, unless it was due before the session last changed.
            assert row.anchor_at == session.starts_at or row.due_at <= session.updated_at, row
        else:
            assert row.status == Status.CANCELLED, row
            assert session.status == TreatmentSession.Status.CANCELLED or row.last_error == REASON_PAST, row
    sent = {f"reminder-{r.pk}": r for r in rows if r.status == Status.SENT}
    assert sent, "no reminder was sent"

    # ---- Exactly once by SMS: one delivery per key, a repeat call answered with the first id.
    calls = sms_calls(top.sms_dir)
    delivered = sms_delivered(top.sms_dir)
    per_key = collections.Counter(key for key, _, _ in calls)
    first_id = {key: message_id for key, message_id, outcome in calls if outcome == "new"}
    repeat_deliveries = [k for k, n in collections.Counter(k for k, _, o in calls if o == "new").items() if n > 1]
    sent_sms = {key for key, r in sent.items() if r.channel == "sms"}
    assert repeat_deliveries == []
    assert sent_sms - delivered == set(), "a reminder marked sent was never delivered"
    assert delivered - sent_sms == set(), "a delivery the database does not hold as sent"
    assert all(sent[key].provider_message_id == first_id[key] for key in sent_sms)
    repeats_absorbed = sum(n - 1 for n in per_key.values())

    # ---- Email has no idempotency key at the transport: a repeat is written again, with the
    # same Message-ID (receiving systems drop it). Only the killed worker's deliveries repeat.
    emails = emails_by_key(top.mail_dir)
    sent_email = {key for key, r in sent.items() if r.channel == "email"}
    assert sent_email - set(emails) == set(), "an email marked sent was never written"
    assert set(emails) - sent_email == set(), "an email the database does not hold as sent"
    email_repeats = {key: n - 1 for key, n in emails.items() if n > 1}
    in_flight_keys = {f"reminder-{pk}" for pk in killer.in_flight}
    assert set(email_repeats) <= in_flight_keys, email_repeats

    # ---- Nothing went out about a session cancelled before the reminder's time.
    cancelled = TreatmentSession.objects.filter(status=TreatmentSession.Status.CANCELLED)
    assert cancelled.count() == 7  # early: 1 and a course of 2; late: 1, a course of 2, and 1
    for session in cancelled:
        assert session.cancelled_at is not None
        # The reminders (a notice of the cancellation is meant to go).
        for row in Reminder.objects.filter(session=session, kind__in=PLANNED_KINDS):
            assert row.status in (Status.SENT, Status.CANCELLED), row
            if row.due_at > session.cancelled_at:
                assert row.status == Status.CANCELLED, row
                assert f"reminder-{row.pk}" not in delivered | set(emails), row

    # ---- The killed worker had deliveries in flight; the other worker finished them.
    assert killer.killed_at is not None, "worker a never had a batch in flight: nothing was killed"
    assert killer.in_flight, "the kill came after the batch committed: nothing was in flight"
    assert Reminder.objects.filter(pk__in=killer.in_flight, channel="sms").exists()
    for row in Reminder.objects.filter(pk__in=killer.in_flight):
        assert row.status == Status.SENT and row.attempts >= 2, row
        if row.channel == "sms":
            assert per_key[f"reminder-{row.pk}"] >= 2, row  # the repeat call the key absorbed
    assert top.workers["b"].process is not None and top.workers["b"].process.poll() is None

    with capsys.disabled():
        print(
            f"\n[topology] zone {top.zone.key}; {len(seats)} patients, {Course.objects.count()} courses; "
            f"HTTP {dict(sorted(statuses.items()))} ({len(conflicts)} deliberate conflicts lost); "
            f"{len(rows)} reminders due: {len(sent)} sent ({len(sent_sms)} SMS, {len(sent_email)} email), "
            f"{len(rows) - len(sent)} cancelled; worker a killed with {len(killer.in_flight)} deliveries "
            f"in flight; {len(calls)} SMS provider calls, {repeats_absorbed} repeats absorbed by the "
            f"idempotency key, {len(repeat_deliveries)} repeat deliveries; {sum(email_repeats.values())} "
            f"emails written again (same Message-ID). Setup {registered - started:.0f} s, race and changes "
            f"{changed - registered:.0f} s, reminders {settled_at - changed:.0f} s."
        )
