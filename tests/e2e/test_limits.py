"""The request limits on gunicorn from the runtime environment, as a client meets them: every one
answered in the JSON error shape, none a 500, an HTML page or a reset connection."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.topology import gunicorn, request
from tests.reminders.worker_process import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.e2e]

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Server:
    port: int
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any) -> Iterator[Server]:
    """One gunicorn for the module: these requests write nothing."""
    with django_db_blocker.unblock():
        url = database_url()
    folder = tmp_path_factory.mktemp("limits")
    with gunicorn(folder, DATABASE_URL=url, REDIS_URL=os.environ["REDIS_URL"]) as bound:
        yield Server(bound, folder / "logs" / "web.log")


@pytest.fixture
def port(server: Server) -> int:
    return server.port


def _error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict:
    code, headers, body = answer
    assert code == status, (code, body[:300])
    assert headers["content-type"] == "application/json", headers
    parsed = json.loads(body)
    assert isinstance(parsed["code"], str) and isinstance(parsed["message"], str)
    return parsed


def test_a_json_body_nested_5000_deep_answers_400_and_logs_no_traceback(server: Server) -> None:
    body = ("[" * 5000 + "]" * 5000).encode()
    answer = request(server.port, "POST", "/api/v1/auth/token/", body=body, headers=JSON_HEADERS)
    assert "nested too deep" in _error(answer, 400)["message"]
    assert "Traceback" not in server.log.read_text()
    assert "RecursionError" not in server.log.read_text()


@pytest.mark.parametrize("megabytes", [3, 30])
def test_a_body_of_megabytes_answers_413_in_json(port: int, megabytes: int) -> None:
    body = b'{"username": "' + b"x" * (megabytes * 1024 * 1024) + b'"}'
    assert _error(request(port, "POST", "/api/v1/auth/token/", body=body, headers=JSON_HEADERS), 413)["rule"] == (
        "max_body_size"
    )


@pytest.mark.parametrize("length", [5000, 20000])
def test_a_very_long_url_answers_414_in_json(port: int, length: int) -> None:
    # 5000: past the service's limit; 20000: past gunicorn's own, which answers before Django.
    assert _error(request(port, "GET", "/api/v1/sessions/?q=" + "a" * length), 414)["rule"] == "max_url_length"


def test_too_many_headers_answer_431_in_json(port: int) -> None:
    headers = {f"X-Filler-{n}": "1" for n in range(150)}
    assert _error(request(port, "GET", "/health/", headers=headers), 431)["code"] == "headers_too_large"


def test_an_unknown_api_path_answers_json_404(port: int) -> None:
    assert _error(request(port, "GET", "/api/v1/nothing-here/"), 404)["code"] == "not_found"


def test_every_answer_of_the_production_web_process_carries_its_security_headers(port: int) -> None:
    status, headers, _ = request(port, "GET", "/")
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    # The sign-in page is Django's never_cache view: no-store among its directives.
    assert "no-store" in [d.strip() for d in headers["cache-control"].split(",")]
    assert headers["strict-transport-security"].startswith("max-age=")
    status, headers, _ = request(port, "GET", "/api/v1/sessions/")
    assert status == 401
    assert headers["cache-control"] == "no-store"


def test_the_docs_assets_come_from_the_web_process_itself(port: int) -> None:
    status, headers, _ = request(port, "GET", "/api/docs/")
    assert (status, headers["location"]) == (302, "/api/auth/login/?next=/api/docs/")
    status, headers, body = request(port, "GET", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert status == 200, body[:200]
    assert b"SwaggerUIBundle" in body
