"""The database role split that makes the audit trail append-only in fact, not only by the code.

Migrations run as the owner of every table. The web processes and workers connect as another
role, the application's, which may read and write the clinic's tables but on the audit table
only read and append: it owns nothing, so it can neither drop nor disable the triggers, and it
holds no UPDATE, DELETE or TRUNCATE privilege there. ``manage.py grant_app_role`` (run as the
owner, after ``migrate``) issues the grants below; docs/deploy.md shows the whole set-up.
"""

from __future__ import annotations

from psycopg import sql

AUDIT_TABLE = "audit_auditevent"


def app_role_grants(role: str, *, schema: str = "public") -> list[sql.Composed]:
    """The statements that give ``role`` the application's rights, and no more, on ``schema``."""
    r, s, audit = sql.Identifier(role), sql.Identifier(schema), sql.Identifier(schema, AUDIT_TABLE)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(audit, r),
        # Tables a later migration makes: the same rights, given by the owner who makes them.
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(
            s, r
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(s, r),
    ]
