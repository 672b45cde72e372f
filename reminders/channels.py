"""The channels a reminder leaves by, behind one small interface.

``deliver(outgoing)`` sends one message and returns the provider's message id. The reminder's id
goes to the provider as an idempotency key: a repeat of a key that was already accepted returns
the first message id and sends nothing (that is what saves a reminder whose worker died between
the provider's answer and the commit that marks it sent).

- email: Django's email backend (``EMAIL_BACKEND``; SMTP in production). The key becomes the
  Message-ID, which mail systems use to drop duplicates.
- SMS: the backend named by ``REMINDER_SMS_BACKEND``: ``FileSMSBackend`` (the default: one file
  per delivery under ``REMINDER_SMS_DIR``), ``ConsoleSMSBackend``, or ``HttpSMSBackend`` for a
  provider's HTTP API.

No backend writes a recipient's number or name to the logs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from reminders.models import Channel

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The provider refused or could not be reached. ``retryable`` says whether to try again."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class Outgoing:
    reminder_id: int
    channel: str
    to: str
    subject: str
    body: str

    @property
    def idempotency_key(self) -> str:
        return f"reminder-{self.reminder_id}"


class SMSBackend(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        """Send one text; return the provider's message id. Raise DeliveryError on failure."""
        ...


def masked(number: str) -> str:
    return f"***{number[-2:]}" if len(number) > 2 else "***"


class ConsoleSMSBackend:
    """Writes each text to standard output (development only), the number masked."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        sys.stdout.write(f"SMS {idempotency_key} to {masked(to)}: {body}\n")
        sys.stdout.flush()
        return f"console-{idempotency_key}"


class FileSMSBackend:
    """Records each delivery as a file, and refuses a repeat key as providers with keys do.

    ``<dir>/delivered/<key>.json`` holds the one delivery of a key, created atomically (written
    aside, then hard-linked into place, which fails if the name exists) so that two processes
    racing on one key deliver it once. Every call, repeat or not, is appended to
    ``<dir>/calls.log`` as ``<key> <message id> <new|repeat>``: the tests count repeats there.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory or settings.REMINDER_SMS_DIR)
        self.delivered = self.directory / "delivered"
        self.delivered.mkdir(parents=True, exist_ok=True)

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        target = self.delivered / f"{idempotency_key}.json"
        message_id = f"file-{uuid.uuid4().hex}"
        record = {"key": idempotency_key, "message_id": message_id, "to": to, "body": body}
        fd, temp = tempfile.mkstemp(dir=self.delivered, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle)
            try:
                os.link(temp, target)
                outcome = "new"
            except FileExistsError:
                message_id = json.loads(target.read_text())["message_id"]
                outcome = "repeat"
        finally:
            os.unlink(temp)
        with open(self.directory / "calls.log", "a") as log:
            log.write(f"{idempotency_key} {message_id} {outcome}\n")
        return message_id


class HttpSMSBackend:
    """A provider's HTTP API: POST JSON ``{from, to, text}`` with a bearer token and an
    ``Idempotency-Key`` header; the answer's ``id`` (or ``data.id``) is the message id.

    Configured by REMINDER_SMS_HTTP_URL, REMINDER_SMS_HTTP_TOKEN and REMINDER_SMS_FROM.
    """

    def __init__(self) -> None:
        self.url = settings.REMINDER_SMS_HTTP_URL
        self.token = settings.REMINDER_SMS_HTTP_TOKEN
        self.sender = settings.REMINDER_SMS_FROM
        if not self.url.startswith("https://"):
            raise DeliveryError("REMINDER_SMS_HTTP_URL must be an https:// URL", retryable=False)

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        request = urllib.request.Request(  # noqa: S310 (the URL is checked to be https above)
            self.url,
            data=json.dumps({"from": self.sender, "to": to, "text": body}).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.REMINDER_SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            # 4xx other than 408/429 will fail the same way again: an invalid number, a bad key.
            retryable = exc.code in (408, 429) or exc.code >= 500
            raise DeliveryError(f"provider answered {exc.code}", retryable=retryable) from exc
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise DeliveryError(f"provider unreachable: {type(exc).__name__}") from exc
        message_id = answer.get("id") or (answer.get("data") or {}).get("id")
        if not message_id:
            raise DeliveryError("provider gave no message id")
        return str(message_id)


def sms_backend() -> SMSBackend:
    backend: SMSBackend = import_string(settings.REMINDER_SMS_BACKEND)()
    return backend


def send_email(outgoing: Outgoing) -> str:
    domain = settings.REMINDER_MESSAGE_ID_DOMAIN
    message_id = f"<{outgoing.idempotency_key}@{domain}>"
    email = EmailMessage(
        subject=outgoing.subject,
        body=outgoing.body,
        to=[outgoing.to],
        headers={"Message-ID": message_id, "X-Idempotency-Key": outgoing.idempotency_key},
    )
    try:
        email.send(fail_silently=False)
    except OSError as exc:  # smtplib's errors and socket errors are both OSErrors
        raise DeliveryError(f"email backend: {type(exc).__name__}") from exc
    return message_id


class Channels:
    """Delivers on every channel; the SMS backend is made once per batch."""

    def __init__(self) -> None:
        self._sms: SMSBackend | None = None

    def deliver(self, outgoing: Outgoing) -> str:
        if outgoing.channel == Channel.EMAIL:
            return send_email(outgoing)
        if self._sms is None:
            self._sms = sms_backend()
        return self._sms.send(to=outgoing.to, body=outgoing.body, idempotency_key=outgoing.idempotency_key)
