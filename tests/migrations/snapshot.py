"""What a migration must keep, read from a PostgreSQL database's catalog and rows by table name.

Nothing here imports a model: the test compares one database before and after migrations that move
models between apps, and a model class names its table only as the code of the day has it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

Connection = psycopg.Connection[tuple[Any, ...]]

PUBLIC_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""
# Rows as JSON objects, whose keys PostgreSQL sorts: a table rebuilt with its columns in another
# order still has the same rows.
ROWS_DIGEST = """
    SELECT count(*), md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))
    FROM (SELECT to_jsonb(t)::text AS r FROM {} AS t) AS rows
"""
ROWS = "SELECT to_jsonb(t)::text FROM {} AS t"
COLUMNS = """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
           coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""
# contype: p primary key, f foreign key, u unique, c check, x exclusion (NOT VALID is in the text).
CONSTRAINTS = """
    SELECT con.contype, c.relname, con.conname, pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
"""
INDEXES = "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
# Foreign keys' own triggers are internal; the others (the audit trail's guards) are the schema's.
TRIGGERS = """
    SELECT 'trigger', c.relname, t.tgname, pg_get_triggerdef(t.oid) || ' [enabled: ' || t.tgenabled::text || ']'
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT t.tgisinternal
"""
GROUPS = "SELECT name FROM auth_group"
GROUP_PERMISSIONS = """
    SELECT g.name, p.codename, ct.model FROM auth_group g
    JOIN auth_group_permissions gp ON gp.group_id = g.id JOIN auth_permission p ON p.id = gp.permission_id
    JOIN django_content_type ct ON ct.id = p.content_type_id
"""
CONTENT_TYPES = "SELECT id, app_label, model FROM django_content_type"
ADMIN_LOG = """
    SELECT content_type_id, count(*) FROM django_admin_log WHERE content_type_id IS NOT NULL GROUP BY 1
"""
SEQUENCES = """
    SELECT c.relname, a.attname, s.last_value, s.start_value, s.increment_by
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_sequences s
      ON format('%I.%I', s.schemaname, s.sequencename)
       = pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass(frozen=True)
class SchemaObject:
    """A column, constraint, index or trigger, as PostgreSQL prints it."""

    kind: str  # "column", "index", "trigger", or pg_constraint.contype (p, f, u, c, x)
    table: str
    name: str
    # Without the object's own name, so that an object a migration re-created under a name that
    # follows its renamed table still compares equal.
    definition: str


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, tuple[int, str]]  # table: its row count and a digest of its rows
    row_sets: dict[str, frozenset[str]]  # every row, as JSON, of the tables asked for
    objects: frozenset[SchemaObject]
    group_permissions: dict[str, frozenset[tuple[str, str]]]  # group: (codename, model name)
    content_types: dict[int, tuple[str, str]]  # id: (app label, model name)
    admin_log: dict[int, int]  # content type id: LogEntry rows that point at it


def connect(**params: Any) -> Connection:
    """An autocommit connection that prints instants in UTC and names tables without their schema."""
    conn = psycopg.connect(autocommit=True, **params)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET search_path = public")
    return conn


def take(conn: Connection, *, keep_rows_of: Collection[str] = ()) -> Snapshot:
    tables = [table for (table,) in conn.execute(PUBLIC_TABLES)]
    rows = {}
    for table in tables:
        count, digest = conn.execute(sql.SQL(ROWS_DIGEST).format(sql.Identifier(table))).fetchone() or (0, "")
        rows[table] = (count, digest)
    row_sets = {
        table: frozenset(row for (row,) in conn.execute(sql.SQL(ROWS).format(sql.Identifier(table))))
        for table in keep_rows_of
        if table in rows
    }
    groups: dict[str, set[tuple[str, str]]] = {name: set() for (name,) in conn.execute(GROUPS)}
    for group, codename, model in conn.execute(GROUP_PERMISSIONS):
        groups[group].add((codename, model))
    return Snapshot(
        rows=rows,
        row_sets=row_sets,
        objects=frozenset(_schema_objects(conn)),
        group_permissions={name: frozenset(permissions) for name, permissions in groups.items()},
        content_types={pk: (app_label, model) for pk, app_label, model in conn.execute(CONTENT_TYPES)},
        admin_log=dict(conn.execute(ADMIN_LOG).fetchall()),
    )


def _schema_objects(conn: Connection) -> list[SchemaObject]:
    objects = []
    for table, column, type_, not_null, identity, default in conn.execute(COLUMNS):
        definition = " ".join(
            part
            for part in (
                column,
                type_,
                "NOT NULL" if not_null else "",
                f"IDENTITY({identity})" if identity else "",
                f"DEFAULT {default}" if default else "",
            )
            if part
        )
        objects.append(SchemaObject("column", table, column, definition))
    for query in (CONSTRAINTS, INDEXES, TRIGGERS):
        for kind, table, name, definition in conn.execute(query):
            objects.append(SchemaObject(kind, table, name, _without_name(definition, name)))
    return objects


def _without_name(definition: str, name: str) -> str:
    # "CREATE UNIQUE INDEX <name> ON ...", "CREATE TRIGGER <name> BEFORE ...": constraints'
    # definitions (pg_get_constraintdef) never carry their name.
    return re.sub(rf"^(CREATE (?:UNIQUE )?(?:INDEX|TRIGGER|CONSTRAINT TRIGGER)) {re.escape(name)} ", r"\1 ", definition)


def sequences_behind(conn: Connection) -> list[str]:
    """Identity and serial columns whose next value is already taken by a row.

    A migration that copies rows with their ids into a new table must move its sequence on too,
    or the next insert fails on the primary key.
    """
    behind = []
    for table, column, last_value, start_value, increment in conn.execute(SEQUENCES).fetchall():
        query = sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
        row = conn.execute(query).fetchone()
        largest = row[0] if row else None
        next_value = start_value if last_value is None else last_value + increment
        if largest is not None and next_value <= largest:
            behind.append(f"{table}.{column}: next value {next_value}, a row already has {largest}")
    return behind


def overlap_refused_by(conn: Connection, *, table: str, constraint: str, predicate: str) -> str:
    """Which rule refuses a copy of a row that ``constraint`` (an exclusion) applies to.

    Every other unique index and exclusion constraint of the table is dropped first, so that only
    ``constraint`` (or the primary key, when the id sequence is behind) can refuse the copy; the
    whole probe is rolled back. Returns the refusing constraint's name, or a sentence saying why
    nothing was refused.
    """
    table_id = sql.Identifier(table)
    where = sql.SQL(predicate or "true")
    with conn.transaction(force_rollback=True):
        found = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(table_id, where)).fetchone()
        if not found or not found[0]:
            return f"no row of {table} that {constraint} applies to: the fixture cannot test it"
        _drop_other_unique_rules(conn, table=table, keep=constraint)
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in _insertable_columns(conn, table))
        copy = sql.SQL("INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} WHERE {where} LIMIT 1")
        try:
            with conn.transaction():
                conn.execute(copy.format(table=table_id, columns=columns, where=where))
        except psycopg.errors.IntegrityError as error:
            return error.diag.constraint_name or str(error)
    return f"{table} accepted an overlapping copy of a row {constraint} applies to"


def _drop_other_unique_rules(conn: Connection, *, table: str, keep: str) -> None:
    rules = conn.execute(
        """
        SELECT ic.relname, con.conname FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND (i.indisunique OR i.indisexclusion)
        """,
        [table],
    ).fetchall()
    for index, constraint in rules:
        if constraint == keep:
            continue
        if constraint:
            drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {} CASCADE").format(
                sql.Identifier(table), sql.Identifier(constraint)
            )
        else:
            drop = sql.SQL("DROP INDEX {} CASCADE").format(sql.Identifier(index))
        conn.execute(drop)


def _insertable_columns(conn: Connection, table: str) -> list[str]:
    """The columns a copy of a row may take as they are: not its generated id."""
    return [
        name
        for (name,) in conn.execute(
            """
            SELECT a.attname FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attidentity = '' AND a.attgenerated = ''
              AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'nextval(%%'
            ORDER BY a.attnum
            """,
            [table],
        )
    ]
