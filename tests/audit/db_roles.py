"""A PostgreSQL login role with the application's rights only (docs/deploy.md), for tests."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection


@pytest.fixture
def app_role() -> Iterator[str]:
    """A login role that owns nothing, given the application's rights on the test database."""
    role = f"kc_app_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
    try:
        call_command("grant_app_role", role)
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@contextlib.contextmanager
def connect_as(role: str) -> Iterator[psycopg.Connection]:
    """A connection to the test database as ``role``."""
    cfg = connection.settings_dict
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=role, dbname=cfg["NAME"], autocommit=True
    ) as conn:
        yield conn


def database_url_as(role: str) -> str:
    cfg = connection.settings_dict
    return f"postgres://{role}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"
