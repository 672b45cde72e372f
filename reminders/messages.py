"""The text of every reminder, from templates the clinic can edit.

Templates live in ``reminders/templates/reminders/``; a clinic edits its own copies in the
directory named by ``REMINDER_TEMPLATES_DIR``, which is searched first. One template per kind
and channel: ``<kind>.sms.txt``, ``<kind>.email.txt`` and ``<kind>.subject.txt``.

A message names the clinic, the time (on the recipient's wall clock), the place and what to do,
and never a drug, a diagnosis or a mental-health treatment: whoever picks up the phone may read
it. Free text that comes from the clinic's data (a chair's location, a protocol's preparation
instructions) is left out when it names one of them, and a finished text that still does is
refused (``ForbiddenContent``) rather than sent.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine

from ketaminecare.access.privacy import forbidden_words
from reminders.models import Channel, ReminderKind

TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates"

FALLBACK_PREPARATION = "Please follow the preparation instructions the clinic gave you."


class ForbiddenContent(ValueError):
    """A rendered text names something a reminder must not name (the words are in ``found``)."""

    def __init__(self, found: list[str]) -> None:
        super().__init__("a reminder text names a drug, a diagnosis or a treatment")
        self.found = found


def clean_free_text(text: str, fallback: str = "") -> str:
    """``text`` when it is safe to put in a reminder, else ``fallback``."""
    text = " ".join(text.split())
    return fallback if forbidden_words(text) else text


@functools.cache
def reminder_engine() -> Engine:
    dirs = [str(TEMPLATE_ROOT)]
    override = getattr(settings, "REMINDER_TEMPLATES_DIR", "")
    if override:
        dirs.insert(0, str(override))
    return Engine(
        dirs=dirs,
        autoescape=False,  # plain text: no HTML entities in an SMS
        loaders=[("django.template.loaders.cached.Loader", ["django.template.loaders.filesystem.Loader"])],
    )


def template_names(kind: str, channel: str) -> list[str]:
    if channel == Channel.SMS:
        return [f"reminders/{kind}.sms.txt"]
    return [f"reminders/{kind}.subject.txt", f"reminders/{kind}.email.txt"]


def all_template_names() -> list[str]:
    return [
        name for kind in ReminderKind.values for channel in Channel.values for name in template_names(kind, channel)
    ]


def local_time_text(instant: dt.datetime, zone: ZoneInfo) -> str:
    """``Monday 2 June at 9:30 AM EDT``: unambiguous, on the reader's own wall clock."""
    local = instant.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{local:%A} {local.day} {local:%B} at {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'} {local:%Z}"


def local_date_text(instant: dt.datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}"


def patient_ref(patient: Any) -> str:
    """How a staff message names a patient: initials and record number, never the full name."""
    return f"{patient.first_name[:1]}{patient.last_name[:1]}-{patient.pk}"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def clinic_context() -> dict[str, Any]:
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_address": settings.CLINIC_ADDRESS,
        "clinic_phone": settings.CLINIC_PHONE,
    }


def render(kind: str, channel: str, context: dict[str, Any]) -> Message:
    """The message for ``kind`` on ``channel``; raises ForbiddenContent rather than leak."""
    engine = reminder_engine()
    full = Context({**clinic_context(), **context}, autoescape=False)
    texts = [str(engine.get_template(name).render(full)) for name in template_names(kind, channel)]
    if channel == Channel.SMS:
        subject, body = "", " ".join(texts[0].split())
    else:
        subject, body = " ".join(texts[0].split()), texts[1].strip() + "\n"
    found = forbidden_words(subject + "\n" + body)
    if found:
        raise ForbiddenContent(found)
    return Message(subject=subject, body=body)
