"""iCalendar (RFC 5545) subscription feeds: who may manage which feed, and the feed's text.

A feed belongs to one staff member or one patient and is read with a secret token in its URL
(only the token's sha256 is stored). It covers FEED_DAYS_BACK days back and FEED_DAYS_AHEAD days
ahead, in a fixed number of queries whatever its length.

What a feed says, decided once for every calendar application that may show it on a lock screen:

- UID ``<kind>-<id>@<CALENDAR_UID_DOMAIN>`` never changes; SEQUENCE is the object's revision,
  which grows on every move and cancellation, so a subscribed calendar moves the event instead
  of adding a second one. Cancelled items inside the horizon stay in the feed as
  STATUS:CANCELLED so that calendars remove them.
- DTSTART/DTEND are UTC; closures are all-day (VALUE=DATE) on the clinic's wall clock.
- No drug, diagnosis or treatment word anywhere: SUMMARY is "Clinic appointment" or "Follow-up
  appointment"; LOCATION is the clinic's name and address (a staff feed adds the chair's name).
  A staff feed adds the patient's initials to SUMMARY, never a name, a diagnosis or a dose; a
  patient's feed names nobody. Free text that an administrator typed (clinic name and address,
  chair names) is left out of the feed when it contains a word of the one privacy vocabulary
  (ketaminecare.access.privacy).
- A staff member's feed holds what they are booked for: sessions they give (clinicians) and
  integration appointments they hold (therapists), plus the clinic's closure days. A patient's
  feed holds their sessions and integration appointments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from calendars.models import CalendarFeed
from clinic.models import ClosureDay
from ketaminecare.access.privacy import is_private_safe
from ketaminecare.roles import Role, user_roles
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.selectors import clinic_zone

FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 365

PRODID = "-//Clinic scheduling//Calendar feed 1.0//EN"
SUMMARY_SESSION = "Clinic appointment"
SUMMARY_APPOINTMENT = "Follow-up appointment"
SUMMARY_CLOSURE = "Clinic closed"
CALENDAR_NAME = "Clinic appointments"

MANAGERS = (Role.FRONT_DESK, Role.ADMINISTRATOR)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Selectors


# A feed lives only as long as its owner's access: a staff member who is active and can sign in,
# or a patient whose account (when they have one) is open.
OWNER_HAS_ACCESS = Q(staff__is_active=True, staff__user__is_active=True) | Q(
    Q(patient__user__isnull=True) | Q(patient__user__is_active=True), patient__isnull=False
)


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown and revoked tokens, and feeds whose owner has
    lost their access, alike)."""
    return (
        CalendarFeed.objects.filter(OWNER_HAS_ACCESS, token_hash=token_hash(token), revoked_at__isnull=True)
        .only("id", "staff_id", "patient_id")
        .first()
    )


def feeds_manageable_by(user: Any) -> QuerySet[CalendarFeed]:
    """The feeds a user may see and manage: front desk and administrators all of them, anyone
    else their own (a staff member's feed, a patient's feed)."""
    roles = user_roles(user)
    if roles & set(MANAGERS):
        return CalendarFeed.objects.all()
    qs = CalendarFeed.objects.none()
    if roles & {Role.CLINICIAN, Role.THERAPIST}:
        qs = qs | CalendarFeed.objects.filter(staff__user=user)
    if Role.PATIENT in roles:
        qs = qs | CalendarFeed.objects.filter(patient__user=user)
    return qs


def feed_horizon(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=FEED_DAYS_BACK), now + dt.timedelta(days=FEED_DAYS_AHEAD)


# ---------------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class FeedOwner:
    staff_id: int | None = None
    patient_id: int | None = None


def _vevent(
    lines: list[str],
    *,
    uid: str,
    sequence: int,
    stamp: str,
    start: str,
    end: str,
    summary: str,
    location: str,
    description: str,
    cancelled: bool,
) -> None:
    lines.append("BEGIN:VEVENT")
    lines.append(fold(f"UID:{uid}"))
    lines.append(f"SEQUENCE:{sequence}")
    lines.append(f"DTSTAMP:{stamp}")
    lines.append(start)
    lines.append(end)
    lines.append(fold(f"SUMMARY:{summary}"))
    if location:
        lines.append(fold(f"LOCATION:{location}"))
    if description:
        lines.append(fold(f"DESCRIPTION:{description}"))
    lines.append("STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED")
    lines.append("TRANSP:OPAQUE")
    lines.append("END:VEVENT")


def feed_ical(owner: FeedOwner, *, now: dt.datetime, patients: set[int] | None = None) -> str:
    """The whole feed of one owner as RFC 5545 text (CRLF line ends, folded, escaped).

    Three queries for a staff member (their sessions, their appointments, closures), two for a
    patient. DTSTAMP is the moment the feed is written. ``patients``, when given, receives the
    ids of the patients whose sessions and appointments the feed shows (for the audit trail).
    """
    horizon_start, horizon_end = feed_horizon(now)
    domain = settings.CALENDAR_UID_DOMAIN
    stamp = utc_stamp(now)
    clinic_location = escape_text(clean_text(settings.CLINIC_NAME, settings.CLINIC_ADDRESS))
    staff_feed = owner.staff_id is not None
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
    description = ""
    if not staff_feed:
        description = escape_text(f"To change this appointment, call {settings.CLINIC_PHONE}.")

    sessions = TreatmentSession.objects.filter(starts_at__lt=horizon_end, ends_at__gt=horizon_start)
    appointments = IntegrationAppointment.objects.filter(starts_at__lt=horizon_end, ends_at__gt=horizon_start)
    if owner.staff_id is not None:
        sessions = sessions.filter(clinician_id=owner.staff_id)
        appointments = appointments.filter(therapist_id=owner.staff_id)
    elif owner.patient_id is not None:
        sessions = sessions.filter(patient_id=owner.patient_id)
        appointments = appointments.filter(patient_id=owner.patient_id)
    else:
        raise ValueError("A feed has an owner.")

    chair_locations: dict[str, str] = {}
    cancelled_session = TreatmentSession.Status.CANCELLED
    shown = patients if patients is not None else set()
    for pk, status, starts_at, ends_at, revision, chair, patient_id, first, last in sessions.order_by(
        "starts_at", "id"
    ).values_list(
        "id",
        "status",
        "starts_at",
        "ends_at",
        "revision",
        "chair__name",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
    ):
        shown.add(patient_id)
        if staff_feed:
            summary = f"{SUMMARY_SESSION} · {first[:1].upper()}.{last[:1].upper()}."
            location = chair_locations.get(chair)
            if location is None:
                location = chair_locations[chair] = escape_text(
                    clean_text(settings.CLINIC_NAME, settings.CLINIC_ADDRESS, chair)
                )
        else:
            summary, location = SUMMARY_SESSION, clinic_location
        _vevent(
            lines,
            uid=f"session-{pk}@{domain}",
            sequence=revision,
            stamp=stamp,
            start=f"DTSTART:{utc_stamp(starts_at)}",
            end=f"DTEND:{utc_stamp(ends_at)}",
            summary=escape_text(summary),
            location=location,
            description=description,
            cancelled=status == cancelled_session,
        )

    cancelled_appointment = IntegrationAppointment.Status.CANCELLED
    for pk, status, starts_at, ends_at, revision, patient_id, first, last in appointments.order_by(
        "starts_at", "id"
    ).values_list(
        "id", "status", "starts_at", "ends_at", "revision", "patient_id", "patient__first_name", "patient__last_name"
    ):
        shown.add(patient_id)
        summary = SUMMARY_APPOINTMENT
        if staff_feed:
            summary = f"{SUMMARY_APPOINTMENT} · {first[:1].upper()}.{last[:1].upper()}."
        _vevent(
            lines,
            uid=f"integration-appointment-{pk}@{domain}",
            sequence=revision,
            stamp=stamp,
            start=f"DTSTART:{utc_stamp(starts_at)}",
            end=f"DTEND:{utc_stamp(ends_at)}",
            summary=escape_text(summary),
            location=clinic_location,
            description=description,
            cancelled=status == cancelled_appointment,
        )

    if staff_feed:
        _closures(lines, horizon_start, horizon_end, stamp=stamp, domain=domain)
    lines.append("END:VCALENDAR")
    lines.append("")
    return "\r\n".join(lines)


def _closures(lines: list[str], start: dt.datetime, end: dt.datetime, *, stamp: str, domain: str) -> None:
    zone = clinic_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for pk, day in (
        ClosureDay.objects.filter(date__gte=first, date__lte=last).order_by("date").values_list("id", "date")
    ):
        _vevent(
            lines,
            uid=f"closure-{pk}@{domain}",
            sequence=0,
            stamp=stamp,
            start=f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            end=f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
            summary=SUMMARY_CLOSURE,
            location="",
            description="",
            cancelled=False,
        )
