"""Give the application's database role its rights: everything it needs, the audit trail append-only.

Run as the owner of the tables (the role migrations run as), after every ``migrate``::

    DATABASE_URL=postgres://ketaminecare_owner@db/ketaminecare python manage.py grant_app_role ketaminecare_app
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from audit.roles import app_role_grants


class Command(BaseCommand):
    help = "Grant the application's PostgreSQL role its rights; on the audit trail, read and append only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the web processes and workers connect as")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The role split is for PostgreSQL; the embedded SQLite has no roles.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"There is no database role {role!r}: CREATE ROLE it first (docs/deploy.md).")
            for statement in app_role_grants(role):
                cursor.execute(statement)
        self.stdout.write(f"Granted {role} the application's rights; the audit trail is append-only for it.")
