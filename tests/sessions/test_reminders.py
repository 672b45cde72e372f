"""The reminder outbox and its sweep, with the clock controlled (every service takes ``now=``).

The sweep and the send run in this process here; tests/sessions/test_reminder_worker.py runs them
through a real Celery worker and Redis.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from courses.models import Course
from ketaminecare.roles import Role
from reminders.channels import DeliveryError
from reminders.models import Channel, Reminder, ReminderKind, ReminderRule
from reminders.services.plan import DEFAULT_REMINDER_PLAN
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from reminders.times import planned_at, release_at
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.scheduling import Preferences
from sessions.services.booking import SessionRequest, course_book, course_plan_and_book, session_reschedule
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import course_cancel, session_cancel
from tests import factories
from tests.conftest import at

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
Status = Reminder.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_to_files(settings: Any, tmp_path: Path) -> Path:
    settings.REMINDER_SMS_BACKEND = "reminders.channels.FileSMSBackend"
    settings.REMINDER_SMS_DIR = tmp_path / "sms"
    return tmp_path / "sms"


@pytest.fixture
def awake_patient(clinic: factories.Clinic) -> Any:
    """A patient with no quiet hours (start == end), so that any moment may send."""
    return factories.screened_patient(
        clinician=clinic.clinicians[0], quiet_hours_start=dt.time(0), quiet_hours_end=dt.time(0)
    )


def delivered(sms_dir: Path) -> dict[str, dict[str, str]]:
    folder = sms_dir / "delivered"
    if not folder.exists():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("reminder-*.json")}


def book(clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime) -> Course:
    return course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )


def sweep_and_send(now: dt.datetime) -> list[Any]:
    """One sweep, then every batch it claimed sent, as a worker would (in this process)."""
    result = reminders_sweep(now=now, enqueue=lambda ids, token: None)
    return [reminders_send_batch(reminder_ids=ids, claim_token=token, now=now) for token, ids in result.batches]


def expected_plan(course: Course, now: dt.datetime) -> set[tuple[Any, ...]]:
    """What the default plan calls for: every line whose planned time is still ahead."""
    wanted = set()
    sessions = list(course.sessions.all())
    for session in sessions:
        for line in DEFAULT_REMINDER_PLAN:
            if line.kind in (ReminderKind.SESSION_CONFIRM, ReminderKind.SESSION_PREPARE, ReminderKind.SESSION_SOON):
                planned = session.starts_at - dt.timedelta(minutes=line.minutes_before)
                if planned > now:
                    wanted |= {(session.pk, None, line.kind, channel, planned) for channel in line.channels}
    last = max(s.starts_at for s in sessions).astimezone(NEW_YORK)
    due = dt.datetime.combine(last.date() + dt.timedelta(days=21), last.time(), tzinfo=NEW_YORK)
    (line,) = [li for li in DEFAULT_REMINDER_PLAN if li.kind == ReminderKind.MAINTENANCE_DUE]
    planned = due - dt.timedelta(minutes=line.minutes_before)
    wanted |= {(None, course.pk, line.kind, channel, planned) for channel in line.channels}
    return wanted


def rows_of(course: Course, *statuses: str) -> set[tuple[Any, ...]]:
    rows = Reminder.objects.filter(status__in=statuses or Reminder.LIVE_STATUSES, patient=course.patient).values_list(
        "session_id", "course_id", "kind", "channel", "planned_at"
    )
    return set(rows)


# ---------------------------------------------------------------------------------------------
# The outbox


def test_course_book_writes_exactly_the_planned_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)

    assert rows_of(course) == expected_plan(course, now)
    first = course.sessions.order_by("starts_at").first()
    # The first session is on Monday morning: its 72-hour reminder (Friday morning) had passed.
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM).exists()
    assert Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_SOON, channel=Channel.SMS).exists()
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_SOON, channel=Channel.EMAIL).exists()
    assert all(r.due_at >= r.planned_at for r in Reminder.objects.all())


def test_protocol_rules_replace_the_default_plan(clinic, patient, monday, now):
    ReminderRule.objects.create(
        protocol=clinic.protocol, kind=ReminderKind.SESSION_PREPARE, minutes_before=48 * 60, send_email=False
    )
    ReminderRule.objects.create(protocol=clinic.protocol, kind=ReminderKind.SESSION_SOON, is_active=False)
    course = book(clinic, patient, monday, now)

    kinds = set(Reminder.objects.filter(patient=patient).values_list("kind", "channel"))
    assert kinds == {(ReminderKind.SESSION_PREPARE, Channel.SMS)}
    for row in Reminder.objects.filter(patient=patient):
        assert row.anchor_at - row.planned_at == dt.timedelta(hours=48)
    assert Reminder.objects.filter(patient=patient).count() == course.sessions.count()  # 48 h: all ahead


def test_a_protocol_keeps_one_active_rule_per_kind_and_channel_in_the_database(clinic, patient, monday, now):
    kind = ReminderKind.SESSION_PREPARE
    # One kind on two channels at different times: SMS two days before, email one day before.
    ReminderRule.objects.create(protocol=clinic.protocol, kind=kind, minutes_before=48 * 60, send_email=False)
    ReminderRule.objects.create(protocol=clinic.protocol, kind=kind, minutes_before=24 * 60, send_sms=False)
    ReminderRule.objects.create(protocol=clinic.protocol, kind=kind, minutes_before=12 * 60, is_active=False)

    for second in ({"send_email": False}, {"send_sms": False}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ReminderRule.objects.create(protocol=clinic.protocol, kind=kind, minutes_before=6 * 60, **second)

    # The rules that stand book: each channel at its own time, the inactive rule ignored.
    course = book(clinic, patient, monday, now)
    rows = Reminder.objects.filter(patient=patient)
    assert {(r.channel, r.anchor_at - r.planned_at) for r in rows} == {
        (Channel.SMS, dt.timedelta(hours=48)),
        (Channel.EMAIL, dt.timedelta(hours=24)),
    }
    assert rows.count() == 2 * course.sessions.count()


def test_the_admin_refuses_a_second_active_rule_of_a_kind_on_a_channel_with_a_message(clinic, superuser):
    kind = ReminderKind.SESSION_SOON
    ReminderRule.objects.create(protocol=clinic.protocol, kind=kind, minutes_before=120, send_email=False)
    form = {"protocol": clinic.protocol.pk, "kind": kind, "minutes_before": 60, "send_sms": "on", "is_active": "on"}
    add = reverse("admin:reminders_reminderrule_add")

    response = superuser.post(add, form)

    assert response.status_code == 200  # the form again, with the error
    assert "already has an active SMS rule of this kind" in response.content.decode()
    assert ReminderRule.objects.filter(protocol=clinic.protocol, kind=kind).count() == 1
    # By email instead, or turned off, the same rule is accepted.
    assert superuser.post(add, {**form, "send_sms": "", "send_email": "on"}).status_code == 302
    form.pop("is_active")
    assert superuser.post(add, {**form, "minutes_before": 30}).status_code == 302
    assert ReminderRule.objects.filter(protocol=clinic.protocol, kind=kind).count() == 3


def test_session_reschedule_moves_its_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    before = {(r.kind, r.channel): r.pk for r in Reminder.objects.filter(session=session, status=Status.PENDING)}
    new_start = session.starts_at + dt.timedelta(hours=2)

    session_reschedule(session_id=session.pk, starts_at=new_start, now=now)

    moved = Reminder.objects.filter(session=session, status=Status.PENDING)
    assert {(r.kind, r.channel): r.pk for r in moved} == before  # the same rows, moved
    session.refresh_from_db()
    for row in moved:
        line = next(li for li in DEFAULT_REMINDER_PLAN if li.kind == row.kind)
        assert row.anchor_at == new_start
        assert row.planned_at == new_start - dt.timedelta(minutes=line.minutes_before)
        assert row.subject_revision == session.revision
    assert not Reminder.objects.filter(session=session, status=Status.CANCELLED).exists()


def test_session_moved_later_gets_reminders_that_had_passed_again(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    first = course.sessions.order_by("starts_at").first()
    assert not Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM).exists()

    # Monday morning's session moves to the afternoon: its 72-hour reminder (Friday 13:00) is ahead.
    session_reschedule(session_id=first.pk, starts_at=at(monday, 13), now=now)

    assert Reminder.objects.filter(session=first, kind=ReminderKind.SESSION_CONFIRM, status=Status.PENDING).count() == 2


def test_session_cancel_cancels_its_reminders(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[3]
    assert Reminder.objects.filter(session=session, status=Status.PENDING).count() == 5

    session_cancel(session_id=session.pk, now=now)

    assert not Reminder.objects.filter(session=session, status__in=Reminder.LIVE_STATUSES).exists()
    assert Reminder.objects.filter(session=session, status=Status.CANCELLED).count() == 5
    # The other sessions keep theirs.
    assert Reminder.objects.filter(session__course=course, status=Status.PENDING).exclude(session=session).exists()


def test_cancelling_the_last_session_moves_the_maintenance_due_reminder(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    sessions = list(course.sessions.order_by("starts_at"))
    due_before = Reminder.objects.get(course=course, channel=Channel.SMS, status=Status.PENDING).anchor_at

    session_cancel(session_id=sessions[-1].pk, now=now)

    due_after = Reminder.objects.get(course=course, channel=Channel.SMS, status=Status.PENDING).anchor_at
    assert due_before - due_after == sessions[-1].starts_at - sessions[-2].starts_at


def test_course_cancel_cancels_every_reminder(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)

    course_cancel(course_id=course.pk, reason="Patient moved away", now=now)

    assert not Reminder.objects.filter(status__in=Reminder.LIVE_STATUSES).exists()
    assert sweep_and_send(at(monday + dt.timedelta(days=30), 12)) == []


def test_appointment_booking_writes_its_reminders_and_cancelling_the_session_cancels_them(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[1]
    window = IntegrationWindow.objects.get(session=session)
    start = window.opens_at.astimezone(NEW_YORK).replace(hour=10, minute=0)
    if start < window.opens_at:
        start += dt.timedelta(days=1)
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=start, now=now
    )
    rows = set(Reminder.objects.filter(appointment=appointment).values_list("kind", "channel", "planned_at"))
    assert rows == {
        (ReminderKind.APPOINTMENT_DAY_BEFORE, Channel.SMS, start - dt.timedelta(hours=24)),
        (ReminderKind.APPOINTMENT_DAY_BEFORE, Channel.EMAIL, start - dt.timedelta(hours=24)),
        (ReminderKind.APPOINTMENT_SOON, Channel.SMS, start - dt.timedelta(hours=2)),
    }

    session_cancel(session_id=session.pk, now=now)

    assert not Reminder.objects.filter(appointment=appointment, status__in=Reminder.LIVE_STATUSES).exists()


# ---------------------------------------------------------------------------------------------
# Time: elapsed offsets, quiet hours


def test_a_72_hour_reminder_is_72_elapsed_hours_before_its_session_across_dst(clinic, patient):
    # Daylight saving starts in New York on Sunday 9 March 2031 (02:00 -> 03:00).
    days = [dt.date(2031, 3, d) for d in (10, 12, 14, 17, 19, 21)]
    requests = [SessionRequest(at(day, 10), clinic.chairs[0].pk, clinic.clinicians[0].pk) for day in days]
    course = course_book(patient=patient, protocol=clinic.protocol, sessions=requests, now=at(dt.date(2031, 3, 1), 12))
    first = course.sessions.order_by("starts_at").first()

    row = Reminder.objects.get(session=first, kind=ReminderKind.SESSION_CONFIRM, channel=Channel.SMS)

    assert first.starts_at - row.planned_at == dt.timedelta(hours=72)
    assert row.due_at == row.planned_at
    # 72 elapsed hours before Monday 10:00 EDT is Friday 09:00 EST, not 10:00 on the wall clock.
    assert row.due_at.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2031, 3, 7, 9, 0)
    assert planned_at(at(dt.date(2031, 3, 10), 10), 72 * 60) == dt.datetime(2031, 3, 7, 14, 0, tzinfo=UTC)


def test_quiet_hours_delay_a_reminder_in_the_patients_own_zone(clinic, monday, now):
    patient = factories.screened_patient(
        clinician=clinic.clinicians[0],
        time_zone="America/Los_Angeles",
        quiet_hours_start=dt.time(21),
        quiet_hours_end=dt.time(8),
    )
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[1]  # Wednesday, 08:00 in New York: 05:00 for the patient
    la = ZoneInfo("America/Los_Angeles")
    assert session.starts_at.astimezone(la).hour < 8

    prepare = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_PREPARE, channel=Channel.SMS)
    soon = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON, channel=Channel.SMS)

    # The day-before reminder falls in the patient's night: it waits until 08:00 their time.
    assert prepare.due_at > prepare.planned_at
    assert prepare.due_at.astimezone(la).time() == dt.time(8)
    assert prepare.due_at.astimezone(la).date() == prepare.planned_at.astimezone(la).date()
    # The one two hours before goes when planned, quiet hours or not.
    assert soon.due_at == soon.planned_at
    assert soon.planned_at.astimezone(la).hour < 8


def test_quiet_hours_at_send_time_defer_rather_than_drop(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)
    row = Reminder.objects.filter(patient=patient, kind=ReminderKind.SESSION_CONFIRM).order_by("due_at").first()
    # The patient changes their quiet hours after the booking so that the planned time is quiet.
    local = row.due_at.astimezone(NEW_YORK)
    patient.quiet_hours_start = (local - dt.timedelta(hours=1)).time()
    patient.quiet_hours_end = (local + dt.timedelta(hours=1)).time()
    patient.save()

    sweep_and_send(row.due_at)

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.due_at == local + dt.timedelta(hours=1)
    assert row.attempts == 0
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert course.pk


def test_release_at_never_waits_past_two_hours_before_the_anchor():
    anchor = dt.datetime(2031, 6, 4, 9, 0, tzinfo=NEW_YORK)
    planned = dt.datetime(2031, 6, 4, 6, 30, tzinfo=NEW_YORK)  # quiet until 08:00; 2 h before is 07:00
    got = release_at(
        planned=planned,
        anchor=anchor,
        zone=NEW_YORK,
        quiet_start=dt.time(21),
        quiet_end=dt.time(8),
        exempt_within=dt.timedelta(hours=2),
    )
    assert got == anchor - dt.timedelta(hours=2)


def test_opted_out_channels_get_nothing(clinic, monday, now, _sms_to_files):
    patient = factories.screened_patient(clinician=clinic.clinicians[0], sms_opted_out_at=now)
    book(clinic, patient, monday, now)
    assert not Reminder.objects.filter(patient=patient, channel=Channel.SMS).exists()
    assert Reminder.objects.filter(patient=patient, channel=Channel.EMAIL).exists()

    # Opting out of email after the booking: the rows stay, and are skipped when due.
    patient.email_opted_out_at = now
    patient.save()
    first_due = Reminder.objects.filter(patient=patient).order_by("due_at").first().due_at
    sweep_and_send(first_due)

    row = Reminder.objects.filter(patient=patient).order_by("due_at").first()
    assert row.status == Status.SKIPPED
    assert not Reminder.objects.filter(patient=patient, status=Status.SENT).exists()
    assert delivered(_sms_to_files) == {}


# ---------------------------------------------------------------------------------------------
# The sweep and the send


def test_due_reminders_are_claimed_once_and_marked_sent_with_the_message_id(
    clinic, awake_patient, monday, now, _sms_to_files, mailoutbox
):
    course = book(clinic, awake_patient, monday, now)
    moment = at(monday, 7)  # Monday 07:00: the first session and its window are still ahead
    due = set(Reminder.objects.filter(due_at__lte=moment).values_list("id", flat=True))
    assert due

    first = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    second = reminders_sweep(now=moment, enqueue=lambda ids, token: None)

    assert {i for _, ids in first.batches for i in ids} == due
    assert second.claimed == 0
    for token, ids in first.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)
        again = reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)
        assert again.sent == 0 and again.not_ours == len(ids)
    sent = Reminder.objects.filter(status=Status.SENT)
    assert set(sent.values_list("id", flat=True)) == due
    sms = delivered(_sms_to_files)
    for row in sent.filter(channel=Channel.SMS):
        assert sms[f"reminder-{row.pk}"]["message_id"] == row.provider_message_id
    emails = {m.extra_headers["Message-ID"] for m in mailoutbox}
    assert emails == set(sent.filter(channel=Channel.EMAIL).values_list("provider_message_id", flat=True))
    assert len(mailoutbox) == sent.filter(channel=Channel.EMAIL).count()
    assert course.pk


def test_a_session_cancelled_after_its_reminder_was_claimed_gets_no_message(
    clinic, patient, monday, now, _sms_to_files
):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at").first()
    moment = session.starts_at - dt.timedelta(hours=2)
    claimed = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    assert Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON).status == Status.CLAIMED

    session_cancel(session_id=session.pk, now=moment)
    for token, ids in claimed.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)

    assert Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON).status == Status.CANCELLED
    assert not Reminder.objects.filter(session=session, status=Status.SENT).exists()
    assert delivered(_sms_to_files) == {}


def test_the_send_rechecks_the_session_even_when_its_rows_were_left_live(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at").first()
    moment = session.starts_at - dt.timedelta(hours=2)
    claimed = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    # Another code path changes the session without touching its reminders.
    TreatmentSession.objects.filter(pk=session.pk).update(status=TreatmentSession.Status.NO_SHOW)

    for token, ids in claimed.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)

    row = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON)
    assert row.status == Status.CANCELLED
    assert row.last_error == "The session is no longer scheduled."
    assert delivered(_sms_to_files) == {}


def test_an_expired_lease_is_claimed_again_and_the_old_claim_sends_nothing(
    clinic, awake_patient, monday, now, settings
):
    book(clinic, awake_patient, monday, now)
    moment = at(monday, 7)
    first = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    assert first.claimed > 0

    assert reminders_sweep(now=moment + lease - dt.timedelta(seconds=1), enqueue=lambda i, t: None).claimed == 0
    retaken = reminders_sweep(now=moment + lease + dt.timedelta(seconds=1), enqueue=lambda i, t: None)

    assert retaken.claimed == first.claimed
    for token, ids in first.batches:
        assert reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment + lease).not_ours == len(ids)
    for token, ids in retaken.batches:
        assert reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment + lease).sent == len(ids)
    assert set(Reminder.objects.filter(attempts=2).values_list("status", flat=True)) == {Status.SENT}


class FlakySMSBackend:
    """A provider that is down."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        raise DeliveryError("provider answered 503")


def test_a_failing_send_retries_with_backoff_then_ends_failed(clinic, patient, monday, now, settings):
    settings.REMINDER_SMS_BACKEND = "tests.sessions.test_reminders.FlakySMSBackend"
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    book(clinic, patient, monday, now)
    row = Reminder.objects.filter(channel=Channel.SMS).order_by("due_at", "id").first()
    moment = row.due_at

    sweep_and_send(moment)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.due_at) == (Status.PENDING, 1, moment + dt.timedelta(seconds=60))
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.due_at) == (Status.PENDING, 2, moment + dt.timedelta(seconds=60 + 120))
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 3
    assert "503" in row.last_error


def test_logs_name_no_patient(clinic, patient, monday, now, caplog):
    book(clinic, patient, monday, now)
    with caplog.at_level(logging.DEBUG):
        sweep_and_send(at(monday + dt.timedelta(days=2), 7))
    assert Reminder.objects.filter(status=Status.SENT).exists()
    text = caplog.text
    for secret in (patient.first_name, patient.last_name, patient.phone, patient.email):
        assert secret not in text


# ---------------------------------------------------------------------------------------------
# The integration window's life


def test_window_opens_unbooked_nudges_the_therapists_once(clinic, patient, monday, now, mailoutbox):
    course = book(clinic, patient, monday, now)
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at").first())
    moment = window.opens_at + dt.timedelta(minutes=1)

    sweep_and_send(moment)
    sweep_and_send(moment + dt.timedelta(minutes=1))

    window.refresh_from_db()
    assert window.opened_at == moment
    nudges = Reminder.objects.filter(window=window, kind=ReminderKind.WINDOW_OPENED)
    assert [(r.staff_id, r.channel, r.status) for r in nudges] == [
        (clinic.therapists[0].pk, Channel.EMAIL, Status.SENT)
    ]
    assert [m.to for m in mailoutbox if "window open" in m.subject] == [[clinic.therapists[0].user.email]]


def test_window_closing_unbooked_alerts_the_front_desk_then_closes_without_integration(
    clinic, patient, monday, now, mailoutbox
):
    course = book(clinic, patient, monday, now)
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at").first())
    alert_at = window.closes_at - dt.timedelta(hours=6)

    sweep_and_send(alert_at - dt.timedelta(minutes=1))
    window.refresh_from_db()
    assert window.closing_alert_at is None
    sweep_and_send(alert_at)
    sweep_and_send(alert_at + dt.timedelta(minutes=1))
    window.refresh_from_db()
    assert window.closing_alert_at == alert_at
    alerts = Reminder.objects.filter(window=window, kind=ReminderKind.WINDOW_CLOSING)
    assert [(r.staff_id, r.status) for r in alerts] == [(clinic.front_desk.pk, Status.SENT)]

    sweep_and_send(window.closes_at)
    sweep_and_send(window.closes_at + dt.timedelta(minutes=5))
    window.refresh_from_db()
    assert window.closed_at == window.closes_at
    assert window.integration_took_place is False
    assert Reminder.objects.filter(window=window).count() == 2  # one nudge, one alert: nothing twice


def test_a_booked_window_sends_no_staff_alert_and_records_the_integration(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at").first())
    start = window.opens_at.astimezone(NEW_YORK).replace(hour=10, minute=0)
    if start < window.opens_at:
        start += dt.timedelta(days=1)
    appointment = window_appointment_book(
        window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=start, now=now
    )

    sweep_and_send(window.opens_at)
    IntegrationAppointment.objects.filter(pk=appointment.pk).update(status=IntegrationAppointment.Status.ATTENDED)
    sweep_and_send(window.closes_at)

    window.refresh_from_db()
    assert window.opened_at is not None and window.closed_at is not None
    assert window.integration_took_place is True
    assert not Reminder.objects.filter(window=window).exists()
    staff = Reminder.objects.filter(staff__role=Role.FRONT_DESK)
    assert not staff.exists()
