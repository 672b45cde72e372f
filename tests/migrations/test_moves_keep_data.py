"""Migrations that move models between apps keep every row, constraint and permission (issue 10).

fixtures/demo_before_recut.sql is the demo clinic at the schema from before the re-cut: a frozen
snapshot of the databases in production (make_fixture.sh says how it was made; it is never
regenerated). It is restored into a new database and migrated by ``manage.py migrate`` in a
subprocess to the re-cut's last migrations (``RECUT_TARGETS``), as a deployment of that release
would, and the database then is compared with the one before, table by table, by name. Later
migrations change the schema on purpose (each with tests of its own); they are applied after the
comparison, for the check that nothing is left to migrate.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from psycopg import sql

from ketaminecare.access.admin_rights import role_permissions
from ketaminecare.roles import Role
from tests.migrations import snapshot
from tests.migrations.snapshot import SchemaObject, Snapshot

pytestmark = pytest.mark.postgres

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "demo_before_recut.sql"

# The last migration of each app in the release that re-cut the apps.
RECUT_TARGETS = {
    "accounts": "0001_initial",
    "audit": "0004_mask_feed_tokens",
    "calendars": "0001_initial",
    "clinic": "0001_initial",
    "courses": "0004_moved_models_removed",
    "patients": "0001_initial",
    "reminders": "0001_initial",
    "treatment_sessions": "0004_models_moved_between_apps",
}

# Apps added in releases after the re-cut: their models, content types and permissions come with
# their own migrations, after the comparison.
LATER_APPS = frozenset({"measures"})
# Models added to existing apps after the re-cut, as (app label, model name): the same for them.
LATER_MODELS = frozenset({("reminders", "inboundmessage")})

# Tables a migration renames, old name: new name. A move by SeparateDatabaseAndState that keeps
# the table (db_table) needs no entry; a migration that renames a table, or copies its rows into a
# new one, names it here, and the table's constraints and indexes may then take names that follow.
TABLE_RENAMES: dict[str, str] = {}
# Tables that may gain rows, never lose or change one: migrate records the migrations it applied.
# If the migrations also add models or permissions, add django_content_type and auth_permission.
TABLES_THAT_MAY_GROW = frozenset({"django_migrations"})
# Relabelling a moved model's content type rewrites its row: checked by id and model name instead.
RELABELLED = "django_content_type"
# The role groups are made again after every migrate from the access policy's admin table: their
# rows follow the policy, not the database before (checked against the policy below).
REGRANTED = "auth_group_permissions"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def connect(self, database: str) -> snapshot.Connection:
        return snapshot.connect(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=database
        )

    def url(self, database: str) -> str:
        login = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{login}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True)
class Migrated:
    before: Snapshot
    after: Snapshot
    checks: dict[str, subprocess.CompletedProcess[str]]  # Django's own checks, run on the database after
    database: snapshot.Connection  # to the database after


@pytest.fixture(scope="module")
def server() -> Server:
    config = settings.DATABASES["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://... (see README)")
    return Server(config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432), config["USER"], config["PASSWORD"])


@pytest.fixture(scope="module")
def migrated(server: Server) -> Iterator[Migrated]:
    """The fixture restored into a new database and migrated; the database is dropped afterwards."""
    name = f"kc_moves_{secrets.token_hex(6)}"
    with server.connect("postgres") as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        _restore(server, name)
        with server.connect(name) as conn:
            before = snapshot.take(conn, keep_rows_of=TABLES_THAT_MAY_GROW)
        _migrate_to_recut(server.url(name))
        renamed_growing = {TABLE_RENAMES.get(table, table) for table in TABLES_THAT_MAY_GROW}
        with server.connect(name) as conn:
            after = snapshot.take(conn, keep_rows_of=renamed_growing)
        _migrate(server.url(name))
        checks = {
            "migrate --check": _manage(server.url(name), "migrate", "--check"),
            "makemigrations --check": _manage(server.url(name), "makemigrations", "--check", "--dry-run"),
        }
        with server.connect(name) as conn:
            yield Migrated(before, after, checks, conn)
    finally:
        with server.connect("postgres") as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# One plan to every target, then post_migrate once, as one ``migrate`` of that release did (a
# command per app would make the moved models' content types anew before the moves relabel them).
# post_migrate is given the models as they stand at the targets, as ``migrate`` gives it its own
# state: the models of later releases (outcome measures) get no content type or permission yet.
_MIGRATE_TO_RECUT = f"""
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

executor = MigrationExecutor(connection)
targets = {sorted(RECUT_TARGETS.items())!r}
plan = executor.migration_plan(targets)
state = executor.migrate(targets, plan=plan)
emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias, apps=state.apps, plan=plan)
"""


def _migrate_to_recut(database_url: str) -> None:
    result = _manage(database_url, "shell", "--no-imports", "-c", _MIGRATE_TO_RECUT)
    if result.returncode:
        pytest.fail(f"migrating the fixture to the re-cut failed:\n{result.stdout[-3000:]}{result.stderr[-5000:]}")


def _migrate(database_url: str, *target: str) -> None:
    migrate = _manage(database_url, "migrate", *target, "--noinput")
    if migrate.returncode:
        pytest.fail(
            f"migrate {' '.join(target)} failed on the fixture:\n{migrate.stdout[-3000:]}{migrate.stderr[-5000:]}"
        )


def _restore(server: Server, database: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql is missing: install the PostgreSQL client (apt-get install postgresql-client)")
    env = {
        **os.environ,
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        "PGUSER": server.user,
        "PGDATABASE": database,
    }
    if server.password:
        env["PGPASSWORD"] = server.password
    restore = subprocess.run(  # noqa: S603 (a fixed command line)
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-o", os.devnull, "-f", str(FIXTURE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if restore.returncode:
        pytest.fail(f"restoring {FIXTURE.name} failed:\n{restore.stderr[-5000:]}")


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, str(REPOSITORY / "manage.py"), *args],
        cwd=REPOSITORY,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _renamed(text: str) -> str:
    """``text`` with every renamed table's new name in place of its old one (in one pass)."""
    if not TABLE_RENAMES:
        return text
    old_names = "|".join(re.escape(old) for old in TABLE_RENAMES)
    return re.sub(rf"\b(?:{old_names})\b", lambda match: TABLE_RENAMES[match.group()], text)


def _installed(app_label: str, model: str) -> bool:
    try:
        apps.get_model(app_label, model)
    except LookupError:
        return False
    return True


def _missing(before: frozenset[SchemaObject], after: frozenset[SchemaObject]) -> list[SchemaObject]:
    """The objects of ``before`` with no counterpart in ``after``.

    A counterpart has the same kind, table and definition, with the renamed tables' new names put
    in; and the same name too, unless a renamed table is involved.
    """
    unclaimed = Counter((o.kind, o.table, o.definition) for o in after)
    missing, moved = [], []
    for old in sorted(before, key=repr):
        new = SchemaObject(old.kind, _renamed(old.table), old.name, _renamed(old.definition))
        if new != old:
            moved.append((old, new))
        elif old in after:
            unclaimed[(old.kind, old.table, old.definition)] -= 1
        else:
            missing.append(old)
    for old, new in moved:
        shape = (new.kind, new.table, new.definition)
        if unclaimed[shape] > 0:
            unclaimed[shape] -= 1
        else:
            missing.append(old)
    return missing


def test_migrating_leaves_nothing_to_migrate_and_no_model_change_unwritten(migrated: Migrated) -> None:
    for command, result in migrated.checks.items():
        assert result.returncode == 0, f"{command} on the migrated fixture:\n{result.stdout}{result.stderr}"


def test_every_table_keeps_exactly_its_rows(migrated: Migrated) -> None:
    before, after = migrated.before, migrated.after
    assert sum(1 for count, _ in before.rows.values() if count) >= 20, "the fixture lost its demo data"
    problems = []
    for table, (count, digest) in sorted(before.rows.items()):
        new = TABLE_RENAMES.get(table, table)
        if new not in after.rows:
            problems.append(f"{table}: gone (if a migration renames it, say so in TABLE_RENAMES)")
            continue
        now = after.rows[new][0]
        if table == REGRANTED:
            continue
        if table == RELABELLED:  # its rows change by design; their ids are checked below
            if now < count or (now > count and table not in TABLES_THAT_MAY_GROW):
                problems.append(f"{table}: {count} rows before, {now} after")
        elif table in TABLES_THAT_MAY_GROW:
            lost = before.row_sets[table] - after.row_sets[new]
            if lost:
                problems.append(f"{table}: {len(lost)} rows lost or changed, e.g. {min(lost)}")
        elif now != count:
            problems.append(f"{table}: {count} rows before, {now} after")
        elif after.rows[new][1] != digest:
            problems.append(f"{table}: as many rows as before, but not the same ones")
    assert not problems, "\n".join(problems)


def test_every_column_constraint_index_and_trigger_is_still_there(migrated: Migrated) -> None:
    kinds = Counter(o.kind for o in migrated.before.objects)
    assert kinds["x"] >= 4 and kinds["f"] and kinds["trigger"], f"the fixture's schema is not the demo's: {kinds}"
    missing = _missing(migrated.before.objects, migrated.after.objects)
    assert not missing, "gone or changed by the migrations:\n" + "\n".join(
        f"{o.kind} {o.table}.{o.name}: {o.definition}" for o in missing
    )


def test_every_exclusion_constraint_still_refuses_an_overlap(migrated: Migrated) -> None:
    """A copy of an active row (a scheduled treatment session, a booked appointment) is refused."""
    after = {(o.kind, o.table, o.definition): o.name for o in migrated.after.objects}
    exclusions = sorted((o for o in migrated.before.objects if o.kind == "x"), key=lambda o: o.name)
    outcomes, expected = {}, {}
    for old in exclusions:
        table, definition = _renamed(old.table), _renamed(old.definition)
        name = after.get(("x", table, definition))
        if name is None:
            outcomes[old.name] = "gone"
            continue
        predicate = definition.partition(" WHERE ")[2]
        expected[old.name] = name
        outcomes[old.name] = snapshot.overlap_refused_by(
            migrated.database, table=table, constraint=name, predicate=predicate
        )
    assert any(o.table == "treatment_sessions_treatmentsession" for o in exclusions)
    assert outcomes == expected


def test_identity_sequences_stay_ahead_of_their_rows(migrated: Migrated) -> None:
    behind = snapshot.sequences_behind(migrated.database)
    assert not behind, "the next insert would fail on the primary key (setval after copying rows):\n" + "\n".join(
        behind
    )


def _policy_differences(
    groups: dict[str, frozenset[tuple[str, str]]],
    *,
    leave_out: frozenset[str] = frozenset(),
    leave_out_models: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, Any]:
    def later(app_label: str, codename: str) -> bool:
        model = codename.split("_", 1)[1]
        return app_label in leave_out or (app_label, model) in leave_out_models

    changes: dict[str, Any] = {}
    for role in Role:
        wanted = {codename for app_label, codename in role_permissions(role) if not later(app_label, codename)}
        has = {codename for codename, _ in groups.get(role.value, frozenset())}
        if wanted != has:
            changes[role.value] = {"missing": sorted(wanted - has), "extra": sorted(has - wanted)}
    return changes


def test_every_group_holds_exactly_what_the_access_policy_grants(migrated: Migrated) -> None:
    """The groups are the policy's after a migrate, whatever they held before; every permission the
    policy names still exists (a moved model's permissions are found under its new app). At the
    re-cut, the apps of later releases have no permissions yet; after the last migrate they do."""
    before = migrated.before.group_permissions
    assert sum(map(len, before.values())) > 100, "the fixture's role groups have no permissions"
    changes = _policy_differences(migrated.after.group_permissions, leave_out=LATER_APPS, leave_out_models=LATER_MODELS)
    assert not changes, f"group permissions differ from the access policy's: {changes}"
    last = snapshot.take(migrated.database, keep_rows_of=frozenset())
    changes = _policy_differences(last.group_permissions)
    assert not changes, f"after the last migrate, group permissions differ from the access policy's: {changes}"


def test_content_types_are_relabelled_not_recreated_or_left_stale(migrated: Migrated) -> None:
    """Moved models' content types keep their ids, which permissions and admin log entries point at."""
    after = migrated.after.content_types
    stale = sorted(f"{app}.{model}" for app, model in after.values() if not _installed(app, model))
    assert not stale, f"content types of no installed model (relabel them in the migration that moves it): {stale}"
    lost = {
        pk: f"{app}.{model}"
        for pk, (app, model) in migrated.before.content_types.items()
        if after.get(pk, ("", ""))[1] != model
    }
    assert not lost, f"content types no longer under their id (deleted or re-created): {lost}"


def test_admin_log_entries_still_name_an_installed_model(migrated: Migrated) -> None:
    # Every content type in the fixture resolved when it was made (make_fixture.sh checks it).
    before = sum(migrated.before.admin_log.values())
    assert before >= 10, "the fixture has no admin log entries to keep"
    types = migrated.after.content_types
    resolving = sum(count for pk, count in migrated.after.admin_log.items() if pk in types and _installed(*types[pk]))
    assert resolving == before
