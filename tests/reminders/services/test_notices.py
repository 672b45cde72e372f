"""Change notices: written with the change, replaced while pending, sent once with the final state."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaminecare.access.privacy import forbidden_words
from ketaminecare.errors import DomainError
from ketaminecare.roles import Role
from reminders.messages import local_time_text
from reminders.models import NOTICE_KINDS, Channel, Reminder, ReminderKind
from reminders.services.notice_checks import STALE_CHANGED
from reminders.services.notice_rows import REASON_REPLACED
from reminders.services.sweep import reminders_sweep
from sessions.models import IntegrationAppointment, IntegrationWindow, RescheduleRequest, TreatmentSession
from sessions.services.integration import (
    integration_appointment_cancel,
    integration_appointment_move,
    window_appointment_book,
)
from sessions.services.lifecycle import course_cancel, session_cancel
from sessions.services.requests import reschedule_request_create, reschedule_request_handle
from sessions.services.reschedule import session_reschedule
from tests import factories
from tests.conftest import at
from tests.reminders.services.outbox_data import NEW_YORK, Status, book, delivered, sweep_and_send

pytestmark = pytest.mark.django_db

Kind = ReminderKind


def notices(**where):
    return Reminder.objects.filter(kind__in=NOTICE_KINDS, **where)


def live_notices(**where):
    return set(
        notices(status__in=Reminder.LIVE_STATUSES, **where).values_list("kind", "channel", "anchor_at", "patient_id")
    )


def told(clinic, patient, monday, now):
    """A course booked, and its booking notice sent: the next changes are the patient's news."""
    course = book(clinic, patient, monday, now)
    sweep_and_send(now)
    assert notices(kind=Kind.COURSE_BOOKED, status=Status.SENT).count() == 2
    return course


def texts_of(sms_dir, kind):
    """The SMS bodies delivered for notices of ``kind``."""
    ids = {f"reminder-{pk}" for pk in notices(kind=kind).values_list("pk", flat=True)}
    return [message["body"] for key, message in delivered(sms_dir).items() if key in ids]


def appointment_in(window, clinic, now, *, hour=None):
    """Book the therapist at the first quarter hour of the window (or at ``hour`` that day)."""
    start = window.opens_at.astimezone(NEW_YORK)
    start = start.replace(minute=0, second=0) + dt.timedelta(minutes=15 * -(-start.minute // 15))
    if hour is not None:
        start = start.replace(hour=hour, minute=0)
    return window_appointment_book(window_id=window.pk, therapist_id=clinic.therapists[0].pk, starts_at=start, now=now)


def test_a_course_booking_sends_one_notice_naming_the_first_visit(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)
    first = course.sessions.order_by("starts_at").first()

    assert live_notices() == {
        (Kind.COURSE_BOOKED, Channel.SMS, first.starts_at, patient.pk),
        (Kind.COURSE_BOOKED, Channel.EMAIL, first.starts_at, patient.pk),
    }
    sweep_and_send(now)
    (text,) = texts_of(_sms_to_files, Kind.COURSE_BOOKED)
    assert local_time_text(first.starts_at, NEW_YORK) in text
    assert forbidden_words(text) == []
    assert sweep_and_send(now) == []  # sent once: nothing left to claim


def test_a_move_then_another_move_before_the_sweep_sends_one_notice_with_the_final_time(
    clinic, patient, monday, now, _sms_to_files
):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    middle, final = session.starts_at + dt.timedelta(hours=1), session.starts_at + dt.timedelta(hours=3)

    session_reschedule(session_id=session.pk, starts_at=middle, now=now)
    session_reschedule(session_id=session.pk, starts_at=final, now=now)

    assert live_notices(session=session) == {
        (Kind.SESSION_MOVED, Channel.SMS, final, patient.pk),
        (Kind.SESSION_MOVED, Channel.EMAIL, final, patient.pk),
    }
    replaced = notices(session=session, status=Status.CANCELLED)
    assert {(r.anchor_at, r.last_error) for r in replaced} == {(middle, REASON_REPLACED)}
    sweep_and_send(now)
    (text,) = texts_of(_sms_to_files, Kind.SESSION_MOVED)
    assert local_time_text(final, NEW_YORK) in text
    assert local_time_text(middle, NEW_YORK) not in text


def test_a_move_then_a_cancel_sends_only_the_cancel(clinic, patient, monday, now, _sms_to_files):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    moved_to = session.starts_at + dt.timedelta(hours=2)

    session_reschedule(session_id=session.pk, starts_at=moved_to, now=now)
    session_cancel(session_id=session.pk, now=now)

    assert {kind for kind, *_ in live_notices(session=session)} == {Kind.SESSION_CANCELLED}
    sweep_and_send(now)
    assert texts_of(_sms_to_files, Kind.SESSION_MOVED) == []
    (text,) = texts_of(_sms_to_files, Kind.SESSION_CANCELLED)
    assert "cancelled" in text and local_time_text(moved_to, NEW_YORK) in text


def test_a_sent_notice_is_never_touched_and_the_next_change_gets_its_own(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=now)
    sweep_and_send(now)
    sent = {r.pk: (r.anchor_at, r.provider_message_id) for r in notices(session=session, status=Status.SENT)}
    assert len(sent) == 2

    final = session.starts_at + dt.timedelta(hours=2)
    session_reschedule(session_id=session.pk, starts_at=final, now=now)

    assert {r.pk: (r.anchor_at, r.provider_message_id) for r in notices(session=session, status=Status.SENT)} == sent
    assert {anchor for _, _, anchor, _ in live_notices(session=session)} == {final}


def test_a_move_before_the_booking_notice_went_rewrites_the_booking_notice(clinic, patient, monday, now):
    course = book(clinic, patient, monday, now)
    first, second = course.sessions.order_by("starts_at")[:2]
    later = first.starts_at + dt.timedelta(hours=2)

    session_reschedule(session_id=first.pk, starts_at=later, now=now)

    # The patient was never told the old time: one booking notice, with the new one, and no "moved".
    assert live_notices() == {
        (Kind.COURSE_BOOKED, Channel.SMS, later, patient.pk),
        (Kind.COURSE_BOOKED, Channel.EMAIL, later, patient.pk),
    }
    session_cancel(session_id=first.pk, now=now)
    assert {anchor for _, _, anchor, _ in live_notices()} == {second.starts_at}


def test_a_course_booked_and_cancelled_before_anything_went_sends_nothing(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)

    course_cancel(course_id=course.pk, reason="Patient moved away", now=now)

    assert live_notices() == set()
    sweep_and_send(now)
    assert delivered(_sms_to_files) == {}


def test_a_course_cancelled_after_the_patient_was_told_sends_one_notice(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=now)

    course_cancel(course_id=course.pk, reason="Patient moved away", now=now)

    first = course.sessions.order_by("starts_at").first()
    # One notice for the course in place of the pending one about a single session.
    assert live_notices() == {
        (Kind.COURSE_CANCELLED, Channel.SMS, first.starts_at, patient.pk),
        (Kind.COURSE_CANCELLED, Channel.EMAIL, first.starts_at, patient.pk),
    }
    assert notices(kind=Kind.SESSION_MOVED, status=Status.CANCELLED).count() == 2


def test_a_refused_move_writes_no_notice(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    first, second = course.sessions.order_by("starts_at")[:2]
    before = set(Reminder.objects.values_list("pk", "status"))

    with pytest.raises(DomainError):  # the same day as another session of the course
        session_reschedule(session_id=second.pk, starts_at=first.starts_at + dt.timedelta(hours=3), now=now)

    assert set(Reminder.objects.values_list("pk", "status")) == before


def test_quiet_hours_hold_a_notice_until_they_end(clinic, patient, monday):
    course = book(clinic, patient, monday, at(monday - dt.timedelta(days=3), 12))
    session = course.sessions.order_by("starts_at")[2]
    sweep_and_send(at(monday - dt.timedelta(days=3), 12))
    late_evening = at(monday - dt.timedelta(days=3), 22, 30)  # the patient's quiet hours: 21:00-08:00

    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=late_evening)

    rows = notices(session=session, status=Status.PENDING)
    assert {r.due_at for r in rows} == {at(monday - dt.timedelta(days=2), 8)}
    assert sweep_and_send(late_evening) == []
    sweep_and_send(at(monday - dt.timedelta(days=2), 8))
    assert notices(session=session, status=Status.SENT).count() == 2


def test_a_channel_the_patient_opted_out_of_gets_no_notice(clinic, patient, monday, now):
    patient.sms_opted_out_at = now
    patient.save(update_fields=["sms_opted_out_at"])

    book(clinic, patient, monday, now)

    assert {channel for _, channel, _, _ in live_notices()} == {Channel.EMAIL}


def test_a_notice_whose_subject_changed_behind_its_back_is_cancelled_not_sent(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=now)
    TreatmentSession.objects.filter(pk=session.pk).update(revision=session.revision + 5)

    sweep_and_send(now)

    assert {(r.status, r.last_error) for r in notices(session=session)} == {(Status.CANCELLED, STALE_CHANGED)}


def test_appointment_notices_tell_the_patient_of_a_booking_a_move_and_a_cancel(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at")[1])
    appointment = appointment_in(window, clinic, now)
    sweep_and_send(now)
    assert notices(appointment=appointment, kind=Kind.APPOINTMENT_BOOKED, status=Status.SENT).count() == 2

    later = appointment.starts_at + dt.timedelta(hours=1)
    integration_appointment_move(appointment_id=appointment.pk, starts_at=later, now=now)
    assert live_notices(appointment=appointment, patient=patient) == {
        (Kind.APPOINTMENT_MOVED, Channel.SMS, later, patient.pk),
        (Kind.APPOINTMENT_MOVED, Channel.EMAIL, later, patient.pk),
    }

    integration_appointment_cancel(appointment_id=appointment.pk, now=now)
    assert {kind for kind, *_ in live_notices(appointment=appointment, patient=patient)} == {Kind.APPOINTMENT_CANCELLED}


def test_an_appointment_booked_and_cancelled_before_its_notice_went_sends_nothing(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at")[1])
    appointment = appointment_in(window, clinic, now)

    integration_appointment_cancel(appointment_id=appointment.pk, now=now, actor=clinic.therapists[0].user)

    assert live_notices(appointment=appointment) == set()


def test_the_therapist_is_told_when_someone_else_moves_their_appointment_not_when_they_do(
    clinic, patient, monday, now, mailoutbox
):
    course = told(clinic, patient, monday, now)
    therapist = clinic.therapists[0]
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at")[1])
    appointment = appointment_in(window, clinic, now)
    start = appointment.starts_at

    integration_appointment_move(
        appointment_id=appointment.pk, starts_at=start + dt.timedelta(hours=1), actor=therapist.user, now=now
    )
    assert not notices(staff=therapist).exists()

    final = start + dt.timedelta(hours=2)
    integration_appointment_move(appointment_id=appointment.pk, starts_at=final, actor=clinic.front_desk.user, now=now)
    (row,) = notices(staff=therapist, status=Status.PENDING)
    assert (row.kind, row.channel, row.anchor_at) == (Kind.APPOINTMENT_CHANGED_BY_OTHER, Channel.EMAIL, final)

    # The therapist's own next change withdraws it: they know the final state.
    integration_appointment_move(appointment_id=appointment.pk, starts_at=start, actor=therapist.user, now=now)
    assert not notices(staff=therapist, status__in=Reminder.LIVE_STATUSES).exists()

    integration_appointment_cancel(appointment_id=appointment.pk, actor=clinic.front_desk.user, now=now)
    sweep_and_send(now)
    (mail,) = [m for m in mailoutbox if m.to == [therapist.user.email]]
    assert "cancelled" in mail.subject and local_time_text(start, NEW_YORK) in mail.body
    assert patient.first_name not in mail.body + mail.subject


def test_a_session_move_tells_whether_its_appointment_moved_or_was_cancelled(clinic, patient, monday, now):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[1]
    window = IntegrationWindow.objects.get(session=session)
    appointment = appointment_in(window, clinic, now)
    sweep_and_send(now)

    result = session_reschedule(
        session_id=session.pk,
        starts_at=session.starts_at + dt.timedelta(hours=2),
        actor=clinic.front_desk.user,
        now=now,
    )

    assert [a.pk for a in result.moved_appointments] == [appointment.pk]
    appointment.refresh_from_db()
    assert {kind for kind, *_ in live_notices(appointment=appointment, patient=patient)} == {Kind.APPOINTMENT_MOVED}
    assert {anchor for _, _, anchor, _ in live_notices(appointment=appointment)} == {appointment.starts_at}
    assert notices(staff=clinic.therapists[0], kind=Kind.APPOINTMENT_CHANGED_BY_OTHER).count() == 1

    # Moved so late that the appointment cannot follow inside the therapist's hours: cancelled.
    result = session_reschedule(
        session_id=session.pk,
        starts_at=session.starts_at + dt.timedelta(hours=8),
        actor=clinic.front_desk.user,
        now=now,
    )
    assert [a.pk for a in result.cancelled_appointments] == [appointment.pk]
    assert {kind for kind, *_ in live_notices(appointment=appointment)} == {
        Kind.APPOINTMENT_CANCELLED,
        Kind.APPOINTMENT_CHANGED_BY_OTHER,
    }
    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.CANCELLED


def test_the_front_desk_is_told_of_a_request_until_it_is_handled(clinic, patient, monday, now, mailoutbox):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]

    request = reschedule_request_create(patient_id=patient.pk, session_id=session.pk, message="Work trip", now=now)

    (row,) = notices(kind=Kind.REQUEST_NEEDS_HANDLING, status=Status.PENDING)
    assert (row.staff, row.session, row.channel) == (clinic.front_desk, session, Channel.EMAIL)
    reschedule_request_handle(request_id=request.pk, outcome=RescheduleRequest.Status.DECLINED, actor=None, now=now)
    sweep_and_send(now)
    row.refresh_from_db()
    assert row.status == Status.CANCELLED
    assert not [m for m in mailoutbox if m.to == [clinic.front_desk.user.email]]

    reschedule_request_create(patient_id=patient.pk, session_id=session.pk, now=now)
    sweep_and_send(now)
    (mail,) = [m for m in mailoutbox if m.to == [clinic.front_desk.user.email]]
    assert local_time_text(session.starts_at, NEW_YORK) in mail.body
    assert patient.last_name not in mail.body + mail.subject


def test_a_notice_left_sending_by_a_dead_worker_is_superseded_by_the_next_changes_notice(
    clinic, patient, monday, now, settings
):
    course = told(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at")[2]
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=now)
    claim = reminders_sweep(now=now, enqueue=lambda ids, token: None)
    # A worker took the "moved" text to the provider and died before recording it.
    stuck = notices(pk__in=[pk for _, ids in claim.batches for pk in ids], channel=Channel.SMS).get()
    Reminder.objects.filter(pk=stuck.pk).update(status=Status.SENDING)

    session_cancel(session_id=session.pk, now=now)  # leaves the sending row alone, writes the cancel
    assert {kind for kind, channel, *_ in live_notices(session=session) if channel == Channel.SMS} == {
        Kind.SESSION_CANCELLED
    }
    later = now + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)
    result = reminders_sweep(now=later, enqueue=lambda ids, token: None)  # reclaiming it would break the constraint

    stuck.refresh_from_db()
    assert result.superseded == 1
    assert stuck.status == Status.CANCELLED


def test_a_move_to_another_therapist_tells_the_one_it_was_taken_from(clinic, patient, monday, now, mailoutbox):
    course = told(clinic, patient, monday, now)
    first, second = clinic.therapists[0], factories.staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17))
    window = IntegrationWindow.objects.get(session=course.sessions.order_by("starts_at")[1])
    appointment = appointment_in(window, clinic, now)

    integration_appointment_move(
        appointment_id=appointment.pk,
        starts_at=appointment.starts_at,
        therapist_id=second.pk,
        actor=clinic.front_desk.user,
        now=now,
    )

    assert set(notices(appointment=appointment, patient=None).values_list("staff_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    sweep_and_send(now)
    (mail,) = [m for m in mailoutbox if m.to == [first.user.email]]
    assert "given to a colleague" in mail.subject
    (mail,) = [m for m in mailoutbox if m.to == [second.user.email]]
    assert "moved" in mail.subject
