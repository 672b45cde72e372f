"""The integration window's life: the therapists' nudge, the front desk's alert, the close."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaminecare.roles import Role
from reminders.models import Channel, Reminder, ReminderKind
from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.services.integration import window_appointment_book
from tests.reminders.services.outbox_data import NEW_YORK, Status, book, sweep_and_send

pytestmark = pytest.mark.django_db


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
