"""The calendar's query string read into a CalendarQuery: 400 naming the field for anything amiss."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from calendars.events import EVENT_TYPES, MAX_ID, MAX_RANGE, CalendarQuery
from ketaminecare.api.serializers import AwareDateTimeFormField
from ketaminecare.errors import InvalidInput
from ketaminecare.rules import Rule
from sessions.selectors import clinic_zone

MSG_RANGE_REQUIRED = "Give the range: start and end, ISO 8601 with a UTC offset."
MSG_RANGE_INVERTED = "The range ends before it starts."
MSG_RANGE_TOO_LONG = f"The range spans at most {MAX_RANGE.days} days."
MSG_OUT_OF_RANGE = "The date is out of the supported range."
MSG_BAD_ID = "Give positive whole numbers, repeated or separated by commas."
MSG_BAD_TYPE = "Unknown event type; use " + ", ".join(EVENT_TYPES) + "."
MSG_BAD_FLAG = "Give true or false."
MAX_IDS = 200
# Instants outside these years cannot be a clinic's appointments (and overflow date arithmetic).
MIN_YEAR, MAX_YEAR = 1900, 2999


def _datetime(params: Any, name: str) -> dt.datetime:
    raw = params.get(name)
    if raw is None or not raw.strip():
        raise InvalidInput(MSG_RANGE_REQUIRED, field=name, rule=Rule.RANGE_REQUIRED)
    try:
        value = AwareDateTimeFormField().clean(raw)
    except forms.ValidationError as exc:
        raise InvalidInput(exc.messages[0], field=name, rule=exc.code or Rule.INVALID) from exc
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise InvalidInput(MSG_OUT_OF_RANGE, field=name, rule=Rule.OUT_OF_RANGE) from exc
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise InvalidInput(MSG_OUT_OF_RANGE, field=name, rule=Rule.OUT_OF_RANGE)
    return utc


def _values(params: Any, name: str) -> list[str]:
    """A repeatable parameter whose values may also be comma-separated lists."""
    return [part.strip() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]


def _ids(params: Any, name: str) -> frozenset[int] | None:
    if name not in params:
        return None
    values = _values(params, name)
    if not values or len(values) > MAX_IDS:
        raise InvalidInput(f"Give 1 to {MAX_IDS} ids.", field=name, rule=Rule.ID_LIST)
    ids = set()
    for value in values:
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise InvalidInput(MSG_BAD_ID, field=name, rule=Rule.ID_LIST)
        ids.add(int(value))
    return frozenset(ids)


def _flag(params: Any, name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(MSG_BAD_FLAG, field=name, rule=Rule.BOOLEAN)


def _types(params: Any) -> frozenset[str]:
    if "type" not in params:
        return frozenset(EVENT_TYPES)
    asked = _values(params, "type")
    unknown = [t for t in asked if t not in EVENT_TYPES]
    if unknown or not asked:
        raise InvalidInput(MSG_BAD_TYPE, field="type", rule=Rule.EVENT_TYPE)
    return frozenset(asked)


def calendar_query(params: Any) -> CalendarQuery:
    """Read and check the query string: 400 naming the field for anything amiss."""
    start = _datetime(params, "start")
    end = _datetime(params, "end")
    if end <= start:
        raise InvalidInput(MSG_RANGE_INVERTED, field="end", rule=Rule.RANGE_INVERTED)
    # 93 days on the clinic's wall clock: local midnight to local midnight 93 days on is
    # allowed even when daylight saving ends in between (93 days and one hour elapsed).
    zone = clinic_zone()
    wall_start, wall_end = start.astimezone(zone).replace(tzinfo=None), end.astimezone(zone).replace(tzinfo=None)
    if wall_end - wall_start > MAX_RANGE:
        raise InvalidInput(MSG_RANGE_TOO_LONG, field="end", rule=Rule.RANGE_TOO_LONG)
    return CalendarQuery(
        start=start,
        end=end,
        types=_types(params),
        chair_ids=_ids(params, "chair"),
        clinician_ids=_ids(params, "clinician"),
        therapist_ids=_ids(params, "therapist"),
        patient_ids=_ids(params, "patient"),
        include_cancelled=_flag(params, "include_cancelled"),
    )
