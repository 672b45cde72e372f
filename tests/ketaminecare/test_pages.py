"""The front page, the API root, the documentation behind sign-in from the app's own files, and
the headers every page carries (Content-Security-Policy, Cache-Control: no-store)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIClient

from accounts.services import token_issue
from ketaminecare.api.root import ENTRY_POINTS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signed_in() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def test_the_front_page_signs_in_and_links_the_admin_the_documentation_and_the_health_check(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="password"' in html and 'name="csrfmiddlewaretoken"' in html
    for href in ("/admin/", "/api/docs/", "/health/", "/api/v1/"):
        assert f'href="{href}"' in html
    # Scripts come from the app's own static files only, none inline (the CSP refuses inline).
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all(re.search(r'src="/static/', attributes) for attributes in scripts)


def test_the_api_root_links_every_entry_point_to_a_route_that_exists() -> None:
    body = APIClient().get("/api/v1/").json()
    assert set(body) == set(ENTRY_POINTS)
    for url in body.values():
        path = url.removeprefix("http://testserver")
        assert resolve(path).url_name, path


def test_the_schema_is_for_signed_in_users_unless_made_public(settings) -> None:
    assert APIClient().get("/api/schema/").status_code == 401
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    assert client.get("/api/schema/").status_code == 200
    settings.API_DOCS_PUBLIC = True
    assert APIClient().get("/api/schema/").status_code == 200


def test_the_docs_page_sends_a_visitor_to_sign_in_first(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/api/auth/login/?next=/api/docs/")


def test_the_docs_page_runs_swagger_ui_from_the_apps_own_files_with_no_inline_script() -> None:
    client = _signed_in()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in src for src in sources)
    assert all(src.startswith("/") for src in sources), sources  # nothing from another host
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assert "script-src 'self'" in page["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/api/auth/login/"])
def test_every_page_carries_a_content_security_policy_without_inline_script(client: Client, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_answers_carrying_patient_data_are_never_stored(world) -> None:
    for role, path in (
        ("front_desk", f"/api/v1/patients/{world.patient_a.pk}/"),
        ("patient_a", "/api/v1/sessions/"),
        ("front_desk", "/api/v1/calendar/?start=2031-06-01T00:00:00%2B00:00&end=2031-06-30T00:00:00%2B00:00"),
    ):
        response = world.client(role).get(path)
        assert response.status_code == 200, (path, response.content[:200])
        assert response["Cache-Control"] == "no-store", path
    admin = Client()
    admin.force_login(world.users["administrator"])
    assert "no-store" in admin.get(f"/admin/patients/patient/{world.patient_a.pk}/change/")["Cache-Control"]
