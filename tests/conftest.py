"""Shared fixtures: a small clinic (hours, chairs, staff, protocol) and a screened patient.

Tests marked ``postgres`` depend on PostgreSQL's locks and constraints: they fail, never skip,
when the suite runs on another database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests import factories

CLINIC_ZONE = ZoneInfo("America/New_York")

# The admin tests' logged-in clients and booked course (front_desk, superuser, staff_client, course).
pytest_plugins = ["tests.backoffice.admin_fixtures"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres"):
            item.fixturenames.append("_require_postgres")


@pytest.fixture(autouse=True, scope="session")
def _flush_through_the_audit_trigger() -> Iterator[None]:
    """Let the test teardown empty the audit table, which the database refuses to TRUNCATE.

    pytest-django empties the database after each transactional test with one TRUNCATE of every
    table; the audit trail's trigger refuses that, as it must in production. In the tests alone,
    the flush switches that trigger off around its own TRUNCATE, inside the same statement list.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        if "audit_auditevent" not in tables or not statements:
            return statements
        trigger = "ALTER TABLE audit_auditevent {} TRIGGER audit_event_no_truncate;"
        return [trigger.format("DISABLE"), *statements, trigger.format("ENABLE")]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    try:
        yield
    finally:
        DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


@pytest.fixture
def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://... (see README)")


@pytest.fixture(autouse=True)
def _clinic_settings(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.BOOKING_SLOT_MINUTES = 15
    # Factories give every user a password: a deliberately slow hash would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test starts with empty throttle counters, whatever ran before it (or in another run).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware instant at a wall-clock time in the clinic's zone."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CLINIC_ZONE)


@pytest.fixture
def monday() -> dt.date:
    """A Monday far enough ahead that nothing is in the past, with no DST change nearby."""
    return dt.date(2031, 6, 2)


@pytest.fixture
def now(monday: dt.date) -> dt.datetime:
    """The clock for the services: the Friday before ``monday``."""
    return at(monday - dt.timedelta(days=3), 12)


@pytest.fixture
def clinic(db: None) -> factories.Clinic:
    return factories.clinic()


@pytest.fixture
def patient(db: None, clinic: factories.Clinic) -> object:
    return factories.screened_patient(clinician=clinic.clinicians[0])
