"""The Twilio-style adapter: its signature check and what it reads from a webhook's form."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from reminders.inbound import SIGNATURE_HEADER, InboundError, TwilioAdapter, twilio_signature
from reminders.models import DeliveryStatus

SECRET = "test-secret"
URL = "https://clinic.example.org/api/v1/sms/inbound/"
PARAMS = {"MessageSid": "SM123", "From": "+15550000001", "Body": "C", "To": "+15559990000"}


def test_signature_is_hmac_sha1_of_the_url_and_sorted_params_in_base64():
    # Twilio's documented example: the URL, then Body, From, MessageSid, To (sorted), keyed by the secret.
    payload = URL + "BodyC" + "From+15550000001" + "MessageSidSM123" + "To+15559990000"
    wanted = base64.b64encode(hmac.new(SECRET.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    assert twilio_signature(secret=SECRET, url=URL, params=PARAMS) == wanted


def test_a_valid_signature_verifies():
    signature = twilio_signature(secret=SECRET, url=URL, params=PARAMS)
    assert TwilioAdapter(SECRET).verify(url=URL, params=PARAMS, headers={SIGNATURE_HEADER: signature})


@pytest.mark.parametrize(
    ("url", "params", "secret"),
    [
        (URL + "?x=1", PARAMS, SECRET),  # another URL
        (URL, {**PARAMS, "Body": "R"}, SECRET),  # a changed body
        (URL, PARAMS, "another-secret"),  # signed with another key
    ],
)
def test_an_invalid_signature_is_refused(url, params, secret):
    signature = twilio_signature(secret=secret, url=url, params=params)
    assert not TwilioAdapter(SECRET).verify(url=URL, params=PARAMS, headers={SIGNATURE_HEADER: signature})


def test_a_missing_signature_is_refused():
    assert not TwilioAdapter(SECRET).verify(url=URL, params=PARAMS, headers={})


def test_no_secret_verifies_nothing():
    signature = twilio_signature(secret="", url=URL, params=PARAMS)
    assert not TwilioAdapter("").verify(url=URL, params=PARAMS, headers={SIGNATURE_HEADER: signature})


def test_parse_inbound_reads_the_message():
    received = dt.datetime(2031, 6, 2, 12, tzinfo=dt.UTC)
    message = TwilioAdapter(SECRET).parse_inbound(PARAMS, received_at=received)
    assert (message.provider_id, message.from_number, message.body, message.received_at) == (
        "SM123",
        "+15550000001",
        "C",
        received,
    )


def test_parse_inbound_without_a_sender_is_an_error():
    with pytest.raises(InboundError):
        TwilioAdapter(SECRET).parse_inbound({"MessageSid": "SM1", "Body": "C"}, received_at=dt.datetime.now(dt.UTC))


@pytest.mark.parametrize(
    ("given", "status"),
    [
        ("delivered", DeliveryStatus.DELIVERED),
        ("undelivered", DeliveryStatus.UNDELIVERED),
        ("failed", DeliveryStatus.FAILED),
        ("sent", None),
        ("queued", None),
    ],
)
def test_parse_status_maps_the_providers_words(given, status):
    update = TwilioAdapter(SECRET).parse_status({"MessageSid": "SM9", "MessageStatus": given})
    assert (update.provider_message_id, update.status) == ("SM9", status)
