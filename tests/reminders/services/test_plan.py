"""What the plan calls for: a protocol's own rules in place of the default plan, one active rule
per kind and channel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from reminders.models import PLANNED_KINDS, Channel, Reminder, ReminderKind, ReminderRule
from tests.reminders.services.outbox_data import book

pytestmark = pytest.mark.django_db


def test_protocol_rules_replace_the_default_plan(clinic, patient, monday, now):
    ReminderRule.objects.create(
        protocol=clinic.protocol, kind=ReminderKind.SESSION_PREPARE, minutes_before=48 * 60, send_email=False
    )
    ReminderRule.objects.create(protocol=clinic.protocol, kind=ReminderKind.SESSION_SOON, is_active=False)
    course = book(clinic, patient, monday, now)

    planned = Reminder.objects.filter(patient=patient, kind__in=PLANNED_KINDS)
    kinds = set(planned.values_list("kind", "channel"))
    assert kinds == {(ReminderKind.SESSION_PREPARE, Channel.SMS)}
    for row in planned:
        assert row.anchor_at - row.planned_at == dt.timedelta(hours=48)
    assert planned.count() == course.sessions.count()  # 48 h: all ahead


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
    rows = Reminder.objects.filter(patient=patient, kind__in=PLANNED_KINDS)
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
