"""The sweep: due reminders are claimed once, each claim under a lease."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from sessions.services.reschedule import session_reschedule
from tests.conftest import at
from tests.reminders.services.outbox_data import Status, book, delivered

pytestmark = pytest.mark.django_db


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


def test_an_expired_lease_is_claimed_again_and_the_old_claim_sends_nothing(
    clinic, awake_patient, monday, now, settings, caplog
):
    book(clinic, awake_patient, monday, now)
    moment = at(monday, 7)
    first = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    assert first.claimed > 0

    assert reminders_sweep(now=moment + lease - dt.timedelta(seconds=1), enqueue=lambda i, t: None).claimed == 0
    retaken = reminders_sweep(now=moment + lease + dt.timedelta(seconds=1), enqueue=lambda i, t: None)

    assert retaken.claimed == retaken.reclaimed == first.claimed
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "reminders.services.sweep"]
    assert [r.getMessage().split(":")[1].split()[0] for r in warnings] == [str(first.claimed)]
    assert "claimed again after their lease" in warnings[0].getMessage()
    assert set(Reminder.objects.filter(status=Status.CLAIMED).values_list("lease_expiries", flat=True)) == {1}
    for token, ids in first.batches:
        assert reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment + lease).not_ours == len(ids)
    for token, ids in retaken.batches:
        assert reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment + lease).sent == len(ids)
    assert set(Reminder.objects.filter(attempts=2).values_list("status", flat=True)) == {Status.SENT}


def test_a_row_left_sending_whose_session_moved_is_cancelled_not_claimed_again(
    clinic, awake_patient, monday, now, settings, caplog
):
    course = book(clinic, awake_patient, monday, now)
    moment = at(monday, 7)
    first = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    ids = [i for _, batch in first.batches for i in batch]
    # A worker took the first session's 24-hour email to the provider and died before recording it.
    stuck = Reminder.objects.get(pk__in=ids, kind=ReminderKind.SESSION_PREPARE, channel=Channel.EMAIL)
    Reminder.objects.filter(pk=stuck.pk).update(status=Status.SENDING)
    session = stuck.session
    assert session is not None
    # The session moves an hour later: the outbox writes a live row for the new time beside it (its
    # moment has passed too, but it is the latest passed line of its channel: it goes at once).
    session_reschedule(session_id=session.pk, starts_at=session.starts_at + dt.timedelta(hours=1), now=moment)
    replacement = Reminder.objects.get(
        session=session, kind=stuck.kind, channel=stuck.channel, status__in=Reminder.LIVE_STATUSES
    )
    assert replacement.pk != stuck.pk

    later = moment + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)
    result = reminders_sweep(now=later, enqueue=lambda ids, token: None)  # raised IntegrityError before

    stuck.refresh_from_db()
    assert result.superseded == 1
    assert stuck.status == Status.CANCELLED
    assert "may have gone out" in stuck.last_error
    assert any("replaced by reminders for their subject's new time" in r.getMessage() for r in caplog.records)
    assert course.pk
