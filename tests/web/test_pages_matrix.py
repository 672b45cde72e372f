"""The web app's matrix, derived from the access policy: every page of web/, every role.

Routes come from the URL resolver: a page whose view is not gated by ``web.pages.page``, or whose
resource the operations table does not name, fails. The expected answer follows from the policy
alone: signed out, the sign-in page (302 there); a role the policy leaves out, 403 whatever the
method, and the page's code never runs; a role it names, the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ketaminecare.access.operations import ANYONE, PAGES, SIGNED_IN, roles_of
from ketaminecare.roles import user_roles
from tests.api.conftest import ROLES, World, build_world
from tests.factories import Clinic

pytestmark = pytest.mark.django_db

# Pages whose URL takes arguments: the arguments to ask with, from the shared world.
ROUTE_KWARGS: dict[str, Any] = {
    "web:board-window": lambda world: {"window_id": world.window_b.pk},
    "web:board-appointment": lambda world: {"appointment_id": world.appointment_a.pk},
    "web:board-move": lambda world: {"appointment_id": world.appointment_a.pk},
    "web:board-cancel": lambda world: {"appointment_id": world.appointment_a.pk},
    "web:chairs-check-in": lambda world: {"session_id": world.session_a.pk},
    "web:chairs-complete": lambda world: {"session_id": world.session_a.pk},
    "web:chairs-hold": lambda world: {"session_id": world.session_a.pk},
}
# Pages whose URL names one of the person's own rows (a patient's visit): each role asks with a
# row of its own, since anyone else's answers 404 (the page's own tests check that).
OWN_ROW_KWARGS: dict[str, Any] = {
    "web:me-ride-home": lambda world, role: {
        "session_id": (world.session_b if role == "patient_b" else world.session_a).pk
    },
    "web:me-change": lambda world, role: {
        "session_id": (world.session_b if role == "patient_b" else world.session_a).pk
    },
}


def _web_routes(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _web_routes(pattern.url_patterns, pattern.namespace or namespace)
        elif namespace == "web":
            yield f"web:{pattern.name}", pattern


WEB_ROUTES = dict(_web_routes(get_resolver().url_patterns))


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def _client(world: World, role: str) -> Client:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


def _url(name: str, world: World, role: str) -> str:
    if name in OWN_ROW_KWARGS:
        return reverse(name, kwargs=OWN_ROW_KWARGS[name](world, role))
    kwargs = ROUTE_KWARGS.get(name)
    return reverse(name, kwargs=kwargs(world) if kwargs else None)


def test_every_web_page_is_gated_by_the_policy() -> None:
    assert {"web:sign-in", "web:desk", "web:board", "web:chairs", "web:me"} <= set(WEB_ROUTES)
    for name, pattern in WEB_ROUTES.items():
        assert name in PAGES, f"{name} has no entry in PAGES"
        view = pattern.callback
        resource = getattr(view, "policy_resource", None) or getattr(
            getattr(view, "view_class", None), "dispatch", None
        )
        assert resource is not None, f"{name}'s view is not gated by web.pages.page"
        assert roles_of(PAGES[name], "get") is not None
        if pattern.pattern.converters:
            assert name in ROUTE_KWARGS or name in OWN_ROW_KWARGS, f"{name} takes arguments: give them in ROUTE_KWARGS"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(WEB_ROUTES))
def test_each_role_gets_the_page_the_policy_gives_it(world: World, name: str, role: str) -> None:
    client = _client(world, role)
    url = _url(name, world, role)
    user = world.users[role]
    allowed = roles_of(PAGES[name], "get") or frozenset()
    response = client.get(url)
    if ANYONE in allowed or (user is not None and (SIGNED_IN in allowed or user_roles(user) & allowed)):
        # The page, or 405 from a route that only takes a form's POST: then the POST gets past the
        # gate (its answer is the page's own, never the policy's refusal).
        assert response.status_code in (200, 302, 405), (name, role, response.status_code)
        if response.status_code == 405:
            posted = client.post(url)
            assert posted.status_code != 403, (name, role)
            assert not posted.get("Location", "").startswith(reverse("web:sign-in") + "?"), (name, role)
    elif user is None:
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in"))
    else:
        assert response.status_code == 403, (name, role, response.status_code)
        # Refused whatever the method: a write is refused before the page's code runs.
        assert client.post(url).status_code == 403


@pytest.mark.parametrize("role", ["front_desk", "clinician", "therapist", "patient_a"])
def test_signing_in_lands_on_the_role_s_own_page(world: World, role: str) -> None:
    expected = {"front_desk": "web:desk", "clinician": "web:chairs", "therapist": "web:board", "patient_a": "web:me"}
    response = _client(world, role).get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(expected[role])


def test_an_administrator_lands_on_the_admin(world: World) -> None:
    response = _client(world, "administrator").get(reverse("web:home"))
    assert response["Location"] == reverse("admin:index")
