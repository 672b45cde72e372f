"""The API matrix, derived from the access policy: every route under /api/v1/, every method, every role.

Routes come from the URL resolver, not from a list: a route whose view names no resource in the
policy, whose action the operations table does not name, or that has no request to send below
fails. For each role the expected answer follows from the policy alone: 401 signed out, 403 for a
role the operations table leaves out, 404 for a row outside the role's scope (``scope_q``), else
what the service answers (the request bodies and success codes of test_permissions' rows). Every
private field holds sentinel text, and no answer carries a field the role may not see.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ketaminecare.access.events import EVENT_RECORDS, OWN, calendar_owner_paths, calendar_scopes
from ketaminecare.access.fields import PRIVATE_FIELDS, hidden_fields
from ketaminecare.access.operations import ANYONE, RESOURCE_RECORDS, SIGNED_IN, roles_of
from ketaminecare.access.records import scope_q
from ketaminecare.api.permissions import policy_resource_of
from ketaminecare.roles import user_roles
from patients.models import Contraindication
from tests.api.conftest import ROLES, World
from tests.api.test_permissions import ROWS, Row, call, ids, matrix_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
REFUSED = (401, 403, 404)

# What a service answers to one allowed role whatever the policy: this administrator login has no
# staff record, so no calendar feed of its own to issue (400).
# The SMS webhooks, open to anyone, answer 404 while no SMS_WEBHOOK_SECRET is set (as here).
SERVICE_ANSWERS: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/api/v1/feeds/"): {"administrator": 400},
    ("POST", "/api/v1/sms/inbound/"): dict.fromkeys(ROLES, 404),
    ("POST", "/api/v1/sms/status/"): dict.fromkeys(ROLES, 404),
}

# Sentinels in every private field: text where the field holds text, else a value whose key must
# not appear in an answer to a role the field is hidden from.
SENTINEL_VALUES: dict[str, Any] = {
    "dose_mg": Decimal("37.77"),
    "contraindications_checked": [Contraindication.values[0]],
    "contraindications_found": [Contraindication.values[0]],
}


def sentinel(label: str, field: str) -> str:
    return f"SENTINEL-{label}-{field}"


def is_text(label: str, field: str) -> bool:
    return isinstance(apps.get_model(label)._meta.get_field(field), models.CharField | models.TextField)


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif route.startswith(API_PREFIX):
            yield route, pattern


def api_routes() -> dict[str, URLPattern]:
    return dict(_routes(get_resolver().url_patterns))


def methods_of(pattern: URLPattern) -> list[str]:
    """The methods the route's view answers (a viewset: its route's actions)."""
    view = pattern.callback
    cls: Any = view.cls
    handled = getattr(view, "actions", None) or {m: m for m in METHODS if hasattr(cls, m)}
    return [m for m in METHODS if m in handled and m in cls.http_method_names]


def operation_of(pattern: URLPattern, method: str) -> tuple[str | None, str]:
    view = pattern.callback
    cls: Any = view.cls
    resource = policy_resource_of(cls, SimpleNamespace(resolver_match=SimpleNamespace(url_name=pattern.name)))
    actions = getattr(view, "actions", None)
    return resource, actions[method] if actions else method


def rows_by_route(world: World) -> dict[tuple[str, str], Row]:
    found = {}
    for row in ROWS:
        path = row.path.format(**ids(world)).split("?")[0]
        found[(row.method.lower(), resolve(path).route)] = row
    return found


def in_scope(user: Any, resource: str, pk: Any) -> bool:
    label, own_path = RESOURCE_RECORDS[resource]
    query = Q(**{own_path: user}) if own_path and user is not None else scope_q(user, label)
    return apps.get_model(label).objects.filter(query, pk=pk).exists()


def expected(world: World, role: str, row: Row, resource: str, action: str) -> int:
    user = world.users[role]
    allowed = roles_of(resource, action)
    assert allowed is not None
    if ANYONE not in allowed:
        if user is None:
            return 401
        if SIGNED_IN not in allowed and not user_roles(user) & allowed:
            return 403
    match = resolve(row.path.format(**ids(world)).split("?")[0])
    if "pk" in match.kwargs and resource in RESOURCE_RECORDS and not in_scope(user, resource, match.kwargs["pk"]):
        return 404
    service = SERVICE_ANSWERS.get((row.method, row.path), {})
    if role in service:
        return service[role]
    answers = Counter(code for code in row.codes.values() if code not in REFUSED)
    return answers.most_common(1)[0][0]


def keys_in(body: Any) -> set[str]:
    if isinstance(body, dict):
        return set(body).union(*(keys_in(value) for value in body.values()))
    if isinstance(body, list):
        return set().union(*(keys_in(value) for value in body))
    return set()


def leaks(world: World, role: str, response: Any) -> list[str]:
    """The private fields hidden from ``role`` that ``response`` shows anyway."""
    text = response.content.decode(errors="replace")
    try:
        keys = keys_in(json.loads(text))
    except ValueError:
        keys = set()
    found = []
    for label in PRIVATE_FIELDS:
        for field in hidden_fields(world.users[role], label):
            shown = sentinel(label, field) in text if is_text(label, field) else field in keys
            if shown:
                found.append(f"{label}.{field}")
    return found


@pytest.fixture
def sentinel_world(matrix_world: World) -> World:  # noqa: F811
    for label, fields in PRIVATE_FIELDS.items():
        values = {f: sentinel(label, f) if is_text(label, f) else SENTINEL_VALUES[f] for f in fields}
        apps.get_model(label).objects.update(**values)
    return matrix_world


def test_every_private_field_has_a_sentinel():
    for label, fields in PRIVATE_FIELDS.items():
        untyped = [f for f in fields if not is_text(label, f) and f not in SENTINEL_VALUES]
        assert not untyped, f"give {label} {untyped} a sentinel value"


def test_every_api_route_and_method_has_a_policy_entry_and_a_request(matrix_world: World):  # noqa: F811
    rows = rows_by_route(matrix_world)
    missing = []
    for route, pattern in api_routes().items():
        for method in methods_of(pattern):
            resource, action = operation_of(pattern, method)
            if resource is None or roles_of(resource, action) is None:
                missing.append(f"{method.upper()} {route}: no policy entry ({resource}.{action})")
            if (method, route) not in rows:
                missing.append(f"{method.upper()} {route}: no request in test_permissions.ROWS")
    assert not missing, "\n".join(missing)


def _cases() -> list[tuple[str, str]]:
    return [(route, method) for route, pattern in api_routes().items() for method in methods_of(pattern)]


@pytest.mark.parametrize(("route", "method"), _cases(), ids=[f"{m.upper()} {r}" for r, m in _cases()])
def test_api_answers_as_the_policy_says(sentinel_world: World, route: str, method: str):
    world = sentinel_world
    pattern = api_routes()[route]
    row = rows_by_route(world)[(method, route)]
    resource, action = operation_of(pattern, method)
    assert resource is not None
    answers, wanted, leaked = {}, {}, {}
    for role in ROLES:
        wanted[role] = expected(world, role, row, resource, action)
        with transaction.atomic():
            response = call(world, role, row)
            answers[role] = response.status_code
            if response.status_code < 400 and leaks(world, role, response):
                leaked[role] = leaks(world, role, response)
            transaction.set_rollback(True)
    assert answers == wanted
    assert not leaked, f"private fields shown to roles that may not see them: {leaked}"


@pytest.mark.parametrize("route", sorted(api_routes()))
def test_methods_a_route_does_not_answer_let_nobody_through(matrix_world: World, route: str):  # noqa: F811
    pattern = api_routes()[route]
    row = next(r for (m, rt), r in rows_by_route(matrix_world).items() if rt == route)
    path = row.path.format(**ids(matrix_world)).split("?")[0]
    for method in set(METHODS) - set(methods_of(pattern)):
        for role in ROLES:
            response = getattr(matrix_world.client(role), method)(path, {}, format="json")
            assert response.status_code in (401, 403, 405), (method, role, response.status_code)


def test_reschedule_answer_to_the_front_desk_carries_no_clinical_keys(sentinel_world: World):
    session = sentinel_world.session_a
    response = sentinel_world.client("front_desk").post(
        f"/api/v1/sessions/{session.pk}/reschedule/",
        {"starts_at": (session.starts_at + dt.timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert not {"dose_mg", "clinical_notes", "hold_reason"} & keys_in(response.json())
    assert not leaks(sentinel_world, "front_desk", response)


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/v1/patients/{patient_a}/", "/api/v1/sessions/"])
def test_therapists_get_403_on_patients_and_sessions(matrix_world: World, path: str):  # noqa: F811
    response = matrix_world.client("therapist").get(path.format(**ids(matrix_world)))
    assert response.status_code == 403


# ---------------------------------------------------------------------------------------------
# The calendar's rows (ketaminecare.access.events), which the calendar reader asks.

CALENDAR = "/api/v1/calendar/?start=2031-06-01T00:00:00Z&end=2031-06-30T00:00:00Z"


def calendar_breaches(world: World, role: str) -> list[str]:
    """Events ``role`` gets that the policy's calendar rows do not give it."""
    user = world.users[role]
    scopes = calendar_scopes(user)
    events = world.client(role).get(CALENDAR).json()["events"]
    breaches = []
    for event in events:
        scope = scopes.get(event["type"])
        if scope is None:
            breaches.append(f"{event['type']} {event['id']}: a kind the role does not see")
        elif scope == OWN:
            label = EVENT_RECORDS[event["type"]]
            owned = Q()
            for path in calendar_owner_paths(user, event["type"]):
                owned &= ~Q(**{path: user})
            if apps.get_model(label).objects.filter(pk=event["id"]).filter(owned).exists():
                breaches.append(f"{event['type']} {event['id']}: not the role's own")
    return breaches


@pytest.mark.parametrize("role", ["front_desk", "clinician", "administrator", "patient_a", "patient_b"])
def test_calendar_shows_each_role_the_events_the_policy_gives_it(matrix_world: World, role: str):  # noqa: F811
    assert not calendar_breaches(matrix_world, role)


def test_calendar_shows_therapists_no_sessions_and_only_their_own_appointments(matrix_world: World):  # noqa: F811
    assert not calendar_breaches(matrix_world, "therapist")
