"""Database helpers shared by the apps.

Exclusion constraints are PostgreSQL's; the embedded SQLite default cannot state them. The
subclass below is declared on the models like any constraint (so migrations and ``pg_constraint``
agree) and emits no SQL and validates nothing on other databases, where the services' own
checks under SQLite's serialised writes keep the same rules.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import IntegrityError, connections, migrations
from django.db.models import Func, IntegerField, JSONField, Transform


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


@JSONField.register_lookup
class JSONArrayLength(Transform):
    """``<json field>__array_length``: the length of a JSON array, on PostgreSQL and SQLite alike
    (so a check constraint on it holds on the embedded default too)."""

    lookup_name = "array_length"
    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra)


class PostgresExclusionConstraint(ExclusionConstraint):
    def _is_postgres(self, schema_editor: Any) -> bool:
        return bool(schema_editor.connection.vendor == "postgresql")

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: str = "default") -> None:
        # Model validation (the admin's forms) must not issue range queries SQLite cannot run;
        # the services check overlaps themselves on every database.
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError reports, when the driver tells it."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    # SQLite names the columns, not the constraint; callers fall back on their own checks.
    return None


def content_types_relabel(old_label: str, new_label: str, models: list[str]) -> Any:
    """A migration step that moves the content types of ``models`` from one app label to another.

    A model moved between apps keeps its table; its content type must follow it so that the
    permissions granted on it (and the admin's history of it) stay attached. A content type that
    already exists under the new label (made by an earlier run) is left as it is.
    """

    def move(apps: Any, schema_editor: Any, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        taken = set(
            content_type.objects.using(db).filter(app_label=target, model__in=models).values_list("model", flat=True)
        )
        content_type.objects.using(db).filter(app_label=source, model__in=set(models) - taken).update(app_label=target)

    return migrations.RunPython(
        lambda apps, editor: move(apps, editor, old_label, new_label),
        lambda apps, editor: move(apps, editor, new_label, old_label),
    )
