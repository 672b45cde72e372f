"""0004 masks the feed tokens that earlier feed reads left in the trail's paths."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = ("audit", "0003_refuse_truncate")
AFTER = ("audit", "0004_mask_feed_tokens")
TOKEN = "s3cr3t-Token_value-0123456789abcdefghijklmn"


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_feed_tokens_already_in_the_trail_are_masked_and_the_trail_stays_append_only() -> None:
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for path in (f"/api/v1/feeds/{TOKEN}.ics", "/api/v1/patients/3/"):
                cursor.execute(
                    "INSERT INTO audit_auditevent (occurred_at, actor_username, roles, channel, action, verb,"
                    " patient_ids, object_type, object_id, method, path, request_id)"
                    " VALUES (now(), '', '', 'feed', 'view', '', '[3]', '', '', 'GET', %s, '')",
                    [path],
                )
    finally:
        _migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT path FROM audit_auditevent ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == ["/api/v1/feeds/***.ics", "/api/v1/patients/3/"]
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_event_no_update_delete' AND NOT tgisinternal"
        )
        assert cursor.fetchone() == ("O",)  # enabled again
