"""A schema-driven, property-based run of every operation, as each role.

The schema is read from /api/schema/ and requests go to the WSGI application in this process (no
network). For every role with a token (and anonymously), every operation gets a few generated
requests, valid and invalid; no answer may be a 5xx, and every answer must match what the schema says: a documented
status code, the declared content type and a body of the declared shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from accounts.services import token_issue
from ketaminecare.wsgi import application
from tests.api.conftest import ROLES, World

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Valid requests (which mostly meet unknown ids or refusals) and deliberately invalid ones, which
# must answer 4xx in the documented shape: bounded so the whole run takes a minute or two.
MODES = [(GenerationMode.POSITIVE, 5), (GenerationMode.NEGATIVE, 3)]
# Logging out, or revoking a token by id, could end the very token the rest of the run uses.
SKIPPED = {("POST", "/api/v1/auth/logout/"), ("POST", "/api/v1/auth/tokens/{id}/revoke/")}


@pytest.fixture
def in_test_transaction():
    """Keep Django from closing the test's connection at the end of each WSGI request.

    Django's own test client does the same; schemathesis calls the WSGI application directly.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def public_schema(settings: Any) -> None:
    """The schema itself is read without a token (schemathesis fetches it first)."""
    settings.API_DOCS_PUBLIC = True


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_the_schema_says_and_never_5xx(
    world: World, in_test_transaction: None, public_schema: None, role: str
):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers: dict[str, Any] = {}
    if world.users[role] is not None:
        headers["Authorization"] = f"Token {token_issue(user=world.users[role]).key}"

    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        for mode, examples in MODES:

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                # No invalid input exists for this operation (nothing to get wrong in it).
                continue
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations > 40
    assert not failures, "\n\n".join(failures)
