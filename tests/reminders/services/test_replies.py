"""A patient's SMS reply: the keywords, the inbox, the unknown number, and a replayed message."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.models import Channel, InboundMessage, Reminder, ReminderKind
from reminders.services.replies import OPT_OUT_WORDS, inbound_message_handle, inbound_message_receive
from sessions.models import RescheduleRequest, TreatmentSession
from sessions.services.lifecycle import session_cancel
from tests.reminders.services.outbox_data import book
from tests.reminders.services.sms_data import mark_sent, reply, sent_confirm, sms_of
from tests.reminders.services.test_notices import appointment_in

pytestmark = pytest.mark.django_db

Action = InboundMessage.Action


@pytest.fixture
def course(clinic, patient, monday, now):
    return book(clinic, patient, monday, now)


@pytest.fixture
def second(course):
    return course.sessions.get(sequence=2)


@pytest.mark.parametrize("body", ["C", "c", " yes ", "YES", "Yes\n"])
def test_c_or_yes_confirms_the_session_the_latest_sms_was_about(patient, second, now, body):
    third = second.course.sessions.get(sequence=3)
    sent_confirm(third, at=now, message_id="SM-3")
    sent_confirm(second, at=now + dt.timedelta(minutes=5), message_id="SM-2")

    row, created = inbound_message_receive(message=reply(body, from_number=patient.phone, at=now), now=now)

    assert created
    assert (row.action, row.status, row.patient, row.in_reply_to.session) == (
        Action.CONFIRMED,
        InboundMessage.Status.HANDLED,
        patient,
        second,
    )
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.confirmed_at == now
    assert third.confirmed_at is None


def test_c_confirms_a_follow_up_appointment_and_r_for_one_goes_to_the_inbox(clinic, patient, second, now):
    appointment = appointment_in(second.integration_window, clinic, now)
    mark_sent(sms_of(ReminderKind.APPOINTMENT_DAY_BEFORE, appointment=appointment), at=now, message_id="SM-app")

    confirmed, _ = inbound_message_receive(message=reply("C", from_number=patient.phone, at=now), now=now)
    change, _ = inbound_message_receive(
        message=reply("R", from_number=patient.phone, provider_id="SM-in-2", at=now), now=now
    )

    appointment.refresh_from_db()
    assert (confirmed.action, appointment.confirmed_at) == (Action.CONFIRMED, now)
    # A follow-up appointment has no reschedule request: the front desk reads it in the inbox.
    assert (change.action, change.status) == (Action.INBOX, InboundMessage.Status.NEW)
    assert change.note


def test_r_opens_a_reschedule_request_and_tells_the_front_desk(clinic, patient, second, now):
    sent_confirm(second, at=now)

    row, _ = inbound_message_receive(message=reply(" r ", from_number=patient.phone, at=now), now=now)

    assert row.action == Action.CHANGE_REQUESTED
    request = RescheduleRequest.objects.get(session=second)
    assert (request.status, request.patient) == (RescheduleRequest.Status.OPEN, patient)
    assert Reminder.objects.filter(
        kind=ReminderKind.REQUEST_NEEDS_HANDLING, session=second, staff=clinic.front_desk
    ).exists()


def test_r_twice_leaves_the_second_in_the_inbox_with_the_reason(patient, second, now):
    sent_confirm(second, at=now)
    inbound_message_receive(message=reply("R", from_number=patient.phone, provider_id="SM-a", at=now), now=now)

    again, _ = inbound_message_receive(
        message=reply("R", from_number=patient.phone, provider_id="SM-b", at=now), now=now
    )

    assert (again.action, again.status) == (Action.INBOX, InboundMessage.Status.NEW)
    assert "open reschedule request" in again.note
    assert RescheduleRequest.objects.filter(session=second).count() == 1


def test_c_for_a_cancelled_session_goes_to_the_inbox(patient, second, now):
    sent_confirm(second, at=now)
    session_cancel(session_id=second.pk, reason="Ill", now=now)

    row, _ = inbound_message_receive(message=reply("C", from_number=patient.phone, at=now), now=now)

    assert (row.action, row.status) == (Action.INBOX, InboundMessage.Status.NEW)
    assert TreatmentSession.objects.get(pk=second.pk).confirmed_at is None


@pytest.mark.parametrize("word", sorted(OPT_OUT_WORDS))
def test_each_carrier_opt_out_word_opts_the_patient_out_of_sms_at_once(patient, second, now, word):
    sent_confirm(second, at=now)

    row, _ = inbound_message_receive(message=reply(word.lower(), from_number=patient.phone, at=now), now=now)

    patient.refresh_from_db()
    assert row.action == Action.OPTED_OUT
    assert patient.sms_opted_out_at == now
    assert not patient.channel_allowed(Channel.SMS)
    # Nothing is answered (the carrier confirms), and nothing of the visit changed.
    assert not second.reschedule_requests.exists()
    assert TreatmentSession.objects.get(pk=second.pk).confirmed_at is None


def test_start_opts_back_in(patient, now):
    patient.sms_opted_out_at = now - dt.timedelta(days=1)
    patient.save(update_fields=["sms_opted_out_at"])

    row, _ = inbound_message_receive(message=reply("START", from_number=patient.phone, at=now), now=now)

    patient.refresh_from_db()
    assert row.action == Action.OPTED_IN
    assert patient.sms_opted_out_at is None


def test_any_other_text_goes_to_the_front_desk_inbox(patient, second, now):
    sent_confirm(second, at=now)

    row, _ = inbound_message_receive(
        message=reply("Can I bring my sister?", from_number=patient.phone, at=now), now=now
    )

    assert (row.action, row.status, row.patient, row.body) == (
        Action.INBOX,
        InboundMessage.Status.NEW,
        patient,
        "Can I bring my sister?",
    )
    assert TreatmentSession.objects.get(pk=second.pk).confirmed_at is None


def test_an_unknown_number_is_an_inbox_row_with_no_patient(now):
    row, _ = inbound_message_receive(message=reply("C", from_number="+15559876543", at=now), now=now)

    assert (row.action, row.status, row.patient, row.in_reply_to) == (
        Action.INBOX,
        InboundMessage.Status.NEW,
        None,
        None,
    )


def test_a_replayed_message_is_ignored(patient, second, now):
    sent_confirm(second, at=now)
    first, created = inbound_message_receive(message=reply("R", from_number=patient.phone, at=now), now=now)
    RescheduleRequest.objects.filter(session=second).update(status=RescheduleRequest.Status.HANDLED)

    again, created_again = inbound_message_receive(message=reply("R", from_number=patient.phone, at=now), now=now)

    assert created and not created_again
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1
    # A second request would have been opened had the replay been acted on.
    assert RescheduleRequest.objects.filter(session=second).count() == 1


def test_email_reminders_are_not_what_a_reply_answers(patient, second, now):
    mark_sent(
        Reminder.objects.get(kind=ReminderKind.SESSION_CONFIRM, channel=Channel.EMAIL, session=second),
        at=now,
        message_id="<reminder@x>",
    )

    row, _ = inbound_message_receive(message=reply("C", from_number=patient.phone, at=now), now=now)

    assert (row.action, row.in_reply_to) == (Action.INBOX, None)
    assert sms_of(ReminderKind.SESSION_CONFIRM, session=second).status == Reminder.Status.PENDING


def test_the_front_desk_marks_an_inbox_message_handled(clinic, patient, now):
    row, _ = inbound_message_receive(message=reply("Running late", from_number=patient.phone, at=now), now=now)

    handled = inbound_message_handle(message_id=row.pk, actor=clinic.front_desk.user, now=now)

    assert (handled.status, handled.handled_by, handled.handled_at) == (
        InboundMessage.Status.HANDLED,
        clinic.front_desk.user,
        now,
    )
