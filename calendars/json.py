"""The calendar as the API's JSON: one plain dict per event, for orjson to write.

This renderer, not the reader, links each event to its object in the API (``url``), reversing
the real routes once per answer rather than once per event. Closures have no route: their
``url`` is null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from calendars.events import (
    CLOSURE,
    INTEGRATION_APPOINTMENT,
    INTEGRATION_WINDOW,
    MAINTENANCE_SESSION,
    SESSION,
    Event,
    Party,
)

# The API route of each kind's detail page; None: the kind has no page in the API.
DETAIL_ROUTES: dict[str, str | None] = {
    SESSION: "session-detail",
    MAINTENANCE_SESSION: "session-detail",
    INTEGRATION_WINDOW: "window-detail",
    INTEGRATION_APPOINTMENT: "appointment-detail",
    CLOSURE: None,
}

# An id no route holds, reversed to find where a detail route puts the id.
_MARKER = 0


def link_prefixes(absolute: Callable[[str], str]) -> dict[str, str | None]:
    """For each kind, the address of its objects up to their id (``<prefix><id>/``), made
    absolute with ``absolute`` (a request's ``build_absolute_uri``); None for kinds with no route."""
    prefixes: dict[str, str | None] = {}
    for kind, route in DETAIL_ROUTES.items():
        if route is None:
            prefixes[kind] = None
            continue
        path = reverse(route, kwargs={"pk": _MARKER})
        suffix = f"/{_MARKER}/"
        if not path.endswith(suffix):
            raise ImproperlyConfigured(f"The route {route} does not end with its id: {path}")
        prefixes[kind] = absolute(path.removesuffix(suffix) + "/")
    return prefixes


def events_json(events: Iterable[Event], *, links: dict[str, str | None]) -> list[dict[str, Any]]:
    """The events as the calendar endpoint answers them (see CalendarEventSerializer)."""
    people: dict[Party, dict[str, Any]] = {}

    def person(party: Party | None) -> dict[str, Any] | None:
        # One dict per person per answer, shared by every event that names them.
        if party is None:
            return None
        found = people.get(party)
        if found is None:
            found = people[party] = {"id": party.id, "name": party.name}
        return found

    out = []
    for event in events:
        prefix = links[event.kind]
        out.append(
            {
                "type": event.kind,
                "id": event.id,
                "start": event.start,
                "end": event.end,
                "all_day": event.all_day,
                "title": event.title,
                "status": event.status,
                "revision": event.revision,
                "chair": person(event.chair),
                "clinician": person(event.clinician),
                "therapist": person(event.therapist),
                "patient": person(event.patient),
                "url": None if prefix is None else f"{prefix}{event.id}/",
                "details": event.details,
            }
        )
    return out
