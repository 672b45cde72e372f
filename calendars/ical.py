"""The calendar as iCalendar (RFC 5545) text: the renderer of subscription feeds.

What a feed says, decided once for every calendar application that may show it on a lock screen:

- UID ``<kind>-<id>@<CALENDAR_UID_DOMAIN>`` never changes; SEQUENCE is the object's revision,
  which grows on every move and cancellation, so a subscribed calendar moves the event instead
  of adding a second one. Cancelled items stay in the feed as STATUS:CANCELLED so that calendars
  remove them.
- DTSTART/DTEND are UTC; all-day events (closures) are dates (VALUE=DATE) on the clinic's wall
  clock.
- SUMMARY is the event's title (calendars.events.TITLES, with the patient's initials in a staff
  feed), which names no drug, diagnosis or treatment. LOCATION is the clinic's name and address (a
  staff feed adds the chair's name). Free text that an administrator typed (clinic name and
  address, chair names) is left out when it contains a word of the one privacy vocabulary
  (ketaminecare.access.privacy). A patient's feed names nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from calendars.events import (
    CLOSURE,
    INTEGRATION_APPOINTMENT,
    INTEGRATION_WINDOW,
    MAINTENANCE_SESSION,
    SESSION,
    Event,
)
from ketaminecare.access.privacy import is_private_safe

PRODID = "-//Clinic scheduling//Calendar feed 1.0//EN"
CALENDAR_NAME = "Clinic appointments"

# The UID's prefix of each kind; both phases of a session are one kind of object.
UID_KINDS = {
    SESSION: "session",
    MAINTENANCE_SESSION: "session",
    INTEGRATION_WINDOW: "integration-window",
    INTEGRATION_APPOINTMENT: "integration-appointment",
    CLOSURE: "closure",
}

# Writing RFC 5545 text by hand: a feed of a year is thousands of short lines, and plain string
# building is several times faster than building a component tree to serialise it.

_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": ""})


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    return value.translate(_ESCAPES)


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence."""
    if len(line) <= 75 and line.isascii():
        return line
    data = line.encode()
    if len(data) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode())
        # A continuation line starts with one space, which counts towards its 75 octets.
        start, limit = end, 74
    return "\r\n ".join(parts)


def utc_stamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return f"{value.year:04d}{value.month:02d}{value.day:02d}T{value.hour:02d}{value.minute:02d}{value.second:02d}Z"


def clean_text(*parts: str) -> str:
    """The parts joined with ", ", leaving out any that carry a forbidden word."""
    return ", ".join(part for part in parts if part and is_private_safe(part))


class _Places:
    """The LOCATION of each event, escaped once per chair rather than once per event."""

    def __init__(self, *, with_chairs: bool) -> None:
        self.with_chairs = with_chairs
        self.clinic = escape_text(clean_text(settings.CLINIC_NAME, settings.CLINIC_ADDRESS))
        self.chairs: dict[str, str] = {}

    def of(self, event: Event) -> str:
        if event.all_day:
            return ""
        if not self.with_chairs or event.chair is None:
            return self.clinic
        name = event.chair.name
        location = self.chairs.get(name)
        if location is None:
            location = self.chairs[name] = escape_text(clean_text(settings.CLINIC_NAME, settings.CLINIC_ADDRESS, name))
        return location


def ical_calendar(events: Iterable[Event], *, now: dt.datetime, for_staff: bool) -> str:
    """The events as one VCALENDAR (CRLF line ends, folded, escaped); DTSTAMP is ``now``.

    ``for_staff``: a staff member's feed (chairs in LOCATION); otherwise a patient's, whose
    timed events tell them how to change an appointment.
    """
    calendar_name = escape_text(clean_text(settings.CLINIC_NAME) or CALENDAR_NAME)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        fold(f"X-WR-CALNAME:{calendar_name}"),
        "X-PUBLISHED-TTL:PT1H",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    stamp = utc_stamp(now)
    domain = settings.CALENDAR_UID_DOMAIN
    places = _Places(with_chairs=for_staff)
    call_us = "" if for_staff else escape_text(f"To change this appointment, call {settings.CLINIC_PHONE}.")
    for event in events:
        lines.append("BEGIN:VEVENT")
        lines.append(fold(f"UID:{UID_KINDS[event.kind]}-{event.id}@{domain}"))
        lines.append(f"SEQUENCE:{event.revision}")
        lines.append(f"DTSTAMP:{stamp}")
        if event.all_day:
            lines.append(f"DTSTART;VALUE=DATE:{event.start:%Y%m%d}")
            lines.append(f"DTEND;VALUE=DATE:{event.end:%Y%m%d}")
        else:
            lines.append(f"DTSTART:{utc_stamp(event.start)}")
            lines.append(f"DTEND:{utc_stamp(event.end)}")
        lines.append(fold(f"SUMMARY:{escape_text(event.title)}"))
        location = places.of(event)
        if location:
            lines.append(fold(f"LOCATION:{location}"))
        if call_us and not event.all_day:
            lines.append(fold(f"DESCRIPTION:{call_us}"))
        lines.append("STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED")
        lines.append("TRANSP:OPAQUE")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    lines.append("")
    return "\r\n".join(lines)
