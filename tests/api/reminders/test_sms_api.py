"""The SMS provider's webhooks over HTTP, and the front desk's follow-up lists."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from reminders.inbound import SIGNATURE_HEADER, twilio_signature
from reminders.models import Channel, DeliveryStatus, InboundMessage, Reminder, ReminderKind
from tests.api.conftest import World
from tests.reminders.services.sms_data import mark_sent, sms_of

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret"
INBOUND = "/api/v1/sms/inbound/"
STATUS = "/api/v1/sms/status/"


@pytest.fixture
def connected(settings: Any) -> None:
    settings.SMS_WEBHOOK_SECRET = SECRET


def post_form(path: str, params: dict[str, str], **kwargs: Any) -> Any:
    headers: dict[str, str] = {}
    signature = kwargs.get("signature")
    if signature is None:
        signature = twilio_signature(secret=kwargs.get("secret", SECRET), url=f"http://testserver{path}", params=params)
    if signature:
        headers[SIGNATURE_HEADER] = signature
    return APIClient().generic(
        "POST", path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers
    )


def inbound(world: World, body: str, sid: str = "SM-in-1") -> dict[str, str]:
    return {"MessageSid": sid, "From": world.patient_a.phone, "To": "+15559990000", "Body": body}


@pytest.fixture
def confirm_sent(world: World) -> Reminder:
    session = world.course_a.sessions.get(sequence=2)
    row = sms_of(ReminderKind.SESSION_CONFIRM, session=session)
    return mark_sent(row, at=row.due_at, message_id="SM-out-1")


def test_unconnected_webhooks_answer_404(world: World):
    assert post_form(INBOUND, inbound(world, "C")).status_code == 404
    assert post_form(STATUS, {"MessageSid": "SM-out-1", "MessageStatus": "failed"}).status_code == 404


def test_a_bad_or_missing_signature_answers_403_and_records_nothing(world: World, connected: None):
    assert post_form(INBOUND, inbound(world, "C"), secret="not-the-secret").status_code == 403
    assert post_form(INBOUND, inbound(world, "C"), signature="").status_code == 403
    assert post_form(STATUS, {"MessageSid": "x", "MessageStatus": "failed"}, signature="AAAA").status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_signed_request_without_its_fields_answers_400(world: World, connected: None):
    assert post_form(INBOUND, {"Body": "C"}).status_code == 400
    assert post_form(STATUS, {"MessageSid": "SM-out-1"}).status_code == 400


def test_a_reply_c_confirms_and_the_api_and_the_calendar_show_it(world: World, connected: None, confirm_sent: Reminder):
    response = post_form(INBOUND, inbound(world, "C"))

    assert response.status_code == 200
    session = confirm_sent.session
    desk = world.client("front_desk")
    shown = desk.get(f"/api/v1/sessions/{session.pk}/").json()
    assert shown["confirmed"] is True and shown["confirmed_at"]
    day = session.starts_at.date()
    calendar = desk.get(
        "/api/v1/calendar/",
        {"start": f"{day}T00:00:00Z", "end": f"{day + dt.timedelta(days=1)}T00:00:00Z", "types": "session"},
    ).json()
    event = next(e for e in calendar["events"] if e["id"] == session.pk)
    assert event["details"]["confirmed"] is True
    other = next(e for e in desk.get("/api/v1/sessions/").json()["results"] if e["id"] == world.session_b.pk)
    assert other["confirmed"] is False


def test_a_replayed_inbound_message_answers_200_and_does_nothing(world: World, connected: None, confirm_sent: Reminder):
    assert post_form(INBOUND, inbound(world, "Hello?")).status_code == 200
    assert post_form(INBOUND, inbound(world, "Hello?")).status_code == 200

    assert InboundMessage.objects.count() == 1


def test_status_webhook_records_delivery_and_the_front_desk_lists_what_to_follow_up(world: World, connected: None):
    soon = sms_of(ReminderKind.SESSION_SOON, session=world.course_a.sessions.get(sequence=2))
    mark_sent(soon, at=soon.due_at, message_id="SM-soon")

    response = post_form(STATUS, {"MessageSid": "SM-soon", "MessageStatus": "undelivered", "ErrorCode": "30003"})

    assert response.status_code == 200
    soon.refresh_from_db()
    assert soon.delivery_status == DeliveryStatus.UNDELIVERED
    fallback = Reminder.objects.get(fallback_for=soon)
    assert fallback.channel == Channel.EMAIL
    listed = world.client("front_desk").get("/api/v1/reminders/", {"follow_up": "true"}).json()["results"]
    assert [(r["id"], r["delivery_status"], r["fallback"]) for r in listed] == [(soon.pk, "undelivered", fallback.pk)]


def test_an_undelivered_sms_whose_email_copy_is_still_due_writes_no_second_email(
    world: World, connected: None, confirm_sent: Reminder
):
    post_form(STATUS, {"MessageSid": "SM-out-1", "MessageStatus": "failed"})

    assert not Reminder.objects.filter(fallback_for=confirm_sent).exists()
    email = Reminder.objects.get(kind=ReminderKind.SESSION_CONFIRM, channel=Channel.EMAIL, session=confirm_sent.session)
    assert email.status == Reminder.Status.PENDING


def test_the_inbox_is_the_front_desks_and_not_the_therapists(world: World, connected: None):
    post_form(INBOUND, inbound(world, "Can I bring my sister?"))

    desk = world.client("front_desk")
    rows = desk.get("/api/v1/sms/inbox/", {"status": "new"}).json()["results"]
    assert [(r["body"], r["patient"], r["action"]) for r in rows] == [
        ("Can I bring my sister?", world.patient_a.pk, "inbox")
    ]
    handled = desk.post(f"/api/v1/sms/inbox/{rows[0]['id']}/handle/")
    assert (handled.status_code, handled.json()["status"]) == (200, "handled")
    assert world.client("therapist").get("/api/v1/sms/inbox/").status_code == 403
    assert world.client("patient_a").get("/api/v1/sms/inbox/").status_code == 403
