"""GET /health/ on gunicorn from the runtime environment: 200 when every part answers, else a
JSON 503 naming the part that is down, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.topology import gunicorn, request
from tests.reminders.worker_process import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.e2e]

CLOSED = "127.0.0.1:9"  # the discard port: nothing listens there


def _health(port: int) -> tuple[int, dict]:
    status, headers, body = request(port, "GET", "/health/")
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)


def test_health_answers_200_when_the_database_and_redis_answer(tmp_path: Path, redis_url: str) -> None:
    with gunicorn(tmp_path, DATABASE_URL=database_url(), REDIS_URL=redis_url) as port:
        status, body = _health(port)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["broker"]["ok"] is True


def test_health_answers_503_naming_the_broker_when_redis_is_unreachable(tmp_path: Path) -> None:
    with gunicorn(tmp_path, DATABASE_URL=database_url(), REDIS_URL=f"redis://{CLOSED}/0") as port:
        status, body = _health(port)
    assert status == 503, body
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"]["ok"] is True


def test_health_answers_503_naming_the_database_when_postgresql_is_unreachable(tmp_path: Path, redis_url: str) -> None:
    with gunicorn(tmp_path, DATABASE_URL=f"postgres://postgres@{CLOSED}/nothing", REDIS_URL=redis_url) as port:
        status, body = _health(port)
    assert status == 503, body
    assert body["failing"] == ["database"]
