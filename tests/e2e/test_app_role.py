"""The service on gunicorn, connected as the application's database role of docs/deploy.md (no
owner rights: on the audit trail, read and append only): signing in, reading a patient's record
and recording that read all work with those rights alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from ketaminecare.roles import Role
from tests import factories
from tests.audit.db_roles import app_role, database_url_as
from tests.e2e.topology import gunicorn, request, with_server_password

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.e2e]

__all__ = ["app_role"]  # the fixture

PASSWORD = "e2e-app-role-pass"


def test_the_service_runs_as_the_application_role_and_appends_to_the_trail(
    tmp_path: Path, redis_url: str, app_role: str
) -> None:
    desk = factories.UserFactory(username="desk.e2e")
    desk.groups.add(Group.objects.get_or_create(name=Role.FRONT_DESK)[0])
    with_server_password(PASSWORD, desk)
    patient = factories.PatientFactory()

    with gunicorn(tmp_path, DATABASE_URL=database_url_as(app_role), REDIS_URL=redis_url) as port:
        status, _, body = request(port, "GET", "/health/")
        assert status == 200, body
        status, _, body = request(
            port,
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": "desk.e2e", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, body
        token = json.loads(body)["token"]
        status, _, body = request(
            port, "GET", f"/api/v1/patients/{patient.pk}/", headers={"Authorization": f"Token {token}"}
        )
        assert status == 200, body

    event = AuditEvent.objects.get(patient_ids=[patient.pk])
    assert (event.actor_username, event.action, event.status_code) == ("desk.e2e", AuditEvent.Action.VIEW, 200)
