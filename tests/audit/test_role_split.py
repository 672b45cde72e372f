"""The role split of docs/deploy.md on the real PostgreSQL: the application's role, given its
rights by ``manage.py grant_app_role``, runs the service but can only read and append the audit
trail, and cannot switch the triggers off."""

from __future__ import annotations

import psycopg
import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from tests.audit.db_roles import app_role, connect_as
from tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

__all__ = ["app_role"]  # the fixture

INSERT_EVENT = """
INSERT INTO audit_auditevent (occurred_at, actor_username, roles, channel, action, verb, patient_ids,
                              object_type, object_id, method, path, request_id)
VALUES (now(), '', '', 'api', 'view', '', '[1]', '', '', 'GET', '/', '') RETURNING id
"""


def refused(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return str(caught.value)


def test_the_application_role_reads_and_appends_the_trail_and_can_do_nothing_else_to_it(app_role: str) -> None:
    with connect_as(app_role) as conn:
        row = conn.execute(INSERT_EVENT).fetchone()
        assert row is not None
        event_id = row[0]
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (1,)
        for statement in (
            "UPDATE audit_auditevent SET verb = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
        ):
            assert "permission denied" in refused(conn, statement)
        for statement in (
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete",
            "DROP TRIGGER audit_event_no_truncate ON audit_auditevent",
            "DROP TABLE audit_auditevent",
        ):
            assert "must be owner" in refused(conn, statement)
    assert AuditEvent.objects.filter(pk=event_id, verb="").exists()


def test_the_application_role_writes_the_clinics_own_tables(app_role: str) -> None:
    patient = PatientFactory()
    with connect_as(app_role) as conn:
        conn.execute("UPDATE courses_patient SET phone = '+15550009999' WHERE id = %s", [patient.pk])
        conn.execute("DELETE FROM django_session")
    patient.refresh_from_db()
    assert patient.phone == "+15550009999"


def test_the_grant_command_refuses_an_unknown_role() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no database role"):
        call_command("grant_app_role", "kc_nobody_at_all")
