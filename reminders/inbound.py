"""What an SMS provider posts to the clinic, behind one provider-neutral interface.

An adapter checks that a request came from the provider (its signature) and reads it: an inbound
message (``parse_inbound``) or a status callback on a message the clinic sent
(``parse_status``). ``SMS_INBOUND_ADAPTER`` names the adapter; ``TwilioAdapter`` is the one
concrete adapter, for Twilio and the providers that copy its webhooks (the same form fields and
the ``X-Twilio-Signature`` header). Another provider needs one class with these three methods.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from reminders.models import DeliveryStatus


class InboundError(ValueError):
    """The request is not a message or a status the adapter can read (the webhook answers 400)."""


@dataclass(frozen=True)
class InboundMessage:
    provider_id: str
    from_number: str
    body: str
    received_at: dt.datetime


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    # A DeliveryStatus, or None for the steps on the way (queued, sent) that change nothing here.
    status: str | None


class InboundAdapter(Protocol):
    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """Whether the request carries the provider's valid signature for ``url`` and ``params``."""
        ...

    def parse_inbound(self, params: Mapping[str, str], *, received_at: dt.datetime) -> InboundMessage:
        """The message a patient sent. Raise InboundError when a field is missing."""
        ...

    def parse_status(self, params: Mapping[str, str]) -> StatusUpdate:
        """The provider's message id and what became of it. Raise InboundError when unreadable."""
        ...


SIGNATURE_HEADER = "X-Twilio-Signature"

# Twilio's MessageStatus values; the others (accepted, queued, sending, sent, receiving, received,
# read) are steps on the way.
TWILIO_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}


def twilio_signature(*, secret: str, url: str, params: Mapping[str, str]) -> str:
    """HMAC-SHA1 of the full URL followed by each POST parameter's name and value, sorted by
    name, keyed by the account's secret, in base64: what Twilio sends in X-Twilio-Signature."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _required(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise InboundError(f"The request has no {name}.")
    return value


class TwilioAdapter:
    """Twilio-style webhooks: form fields ``MessageSid``, ``From``, ``Body`` (inbound) and
    ``MessageSid``, ``MessageStatus`` (status callbacks), signed with ``SMS_WEBHOOK_SECRET``."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret if secret is not None else settings.SMS_WEBHOOK_SECRET

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        given = headers.get(SIGNATURE_HEADER, "")
        if not self.secret or not given:
            return False
        expected = twilio_signature(secret=self.secret, url=url, params=params)
        return hmac.compare_digest(expected.encode(), given.encode())

    def parse_inbound(self, params: Mapping[str, str], *, received_at: dt.datetime) -> InboundMessage:
        return InboundMessage(
            provider_id=_required(params, "MessageSid")[:200],
            from_number=_required(params, "From")[:32],
            body=(params.get("Body") or "")[:1600],
            received_at=received_at,
        )

    def parse_status(self, params: Mapping[str, str]) -> StatusUpdate:
        status = _required(params, "MessageStatus").lower()
        return StatusUpdate(
            provider_message_id=_required(params, "MessageSid")[:200], status=TWILIO_STATUSES.get(status)
        )


def inbound_adapter() -> InboundAdapter:
    adapter: InboundAdapter = import_string(settings.SMS_INBOUND_ADAPTER)()
    return adapter
