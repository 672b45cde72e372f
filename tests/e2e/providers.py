"""The providers of the end-to-end test: the file backends, slow to answer, noting who called.

Each delivery is recorded first (the provider accepted it), then the answer takes ``LATENCY``
seconds to come back, as over a network. Meanwhile the batch's rows are still claimed and not
committed, so a worker killed in that moment leaves a delivery the database does not know about:
the case the idempotency key is for. ``<REMINDER_SMS_DIR>/callers.log`` gets one line per
delivery, ``<pid> <idempotency key>``, so that the test knows which worker process made it.

Two knobs for the fault tests (environment variables of the worker):
- ``TEST_PROVIDER_LATENCY``: the seconds an answer takes (0.3 by default).
- ``TEST_PROVIDER_TRAP_KEY``: the first call with this key hangs *before* the provider accepts it
  (it writes ``<REMINDER_SMS_DIR>/trap`` and sleeps), so that a test can kill the worker at that
  exact point: the message has not gone out, and the ones before it have.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

from reminders.channels import FileSMSBackend

LATENCY = float(os.environ.get("TEST_PROVIDER_LATENCY", "0.3"))
TRAP_KEY = os.environ.get("TEST_PROVIDER_TRAP_KEY", "")


def note_caller(key: str) -> None:
    folder = Path(settings.REMINDER_SMS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "callers.log", "a") as log:
        log.write(f"{os.getpid()} {key}\n")


def trap(key: str) -> None:
    """Hang the first call with the trap key, before anything is delivered."""
    if not TRAP_KEY or key != TRAP_KEY:
        return
    folder = Path(settings.REMINDER_SMS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(folder / "trap", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # sprung once already: a later call (another worker's) goes through
    time.sleep(3600)


class SlowFileSMSBackend(FileSMSBackend):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        trap(idempotency_key)
        message_id = super().send(to=to, body=body, idempotency_key=idempotency_key)
        note_caller(idempotency_key)
        time.sleep(LATENCY)
        return message_id


class SlowFileEmailBackend(EmailBackend):
    """Django's file backend: a repeat of a Message-ID is written again (SMTP has no key)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            trap(str(message.extra_headers.get("X-Idempotency-Key", "")))
        sent = super().send_messages(email_messages)
        for message in email_messages:
            note_caller(str(message.extra_headers.get("X-Idempotency-Key", "")))
        time.sleep(LATENCY)
        return sent
