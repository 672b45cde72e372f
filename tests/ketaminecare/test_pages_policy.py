"""Every route outside the API and the admin is named in the access policy (the API's routes are
held to it by tests/api/test_policy_matrix.py, the admin's by the admin rights)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLResolver, get_resolver

from ketaminecare.access.operations import OPERATIONS, PAGES

GOVERNED_ELSEWHERE = ("api/v1/", "admin/")


def _pages(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(GOVERNED_ELSEWHERE):
            continue
        if isinstance(pattern, URLResolver):
            yield from _pages(pattern.url_patterns, route, pattern.namespace or namespace)
        else:
            yield route, f"{namespace}:{pattern.name}" if namespace else str(pattern.name)


def test_every_page_has_a_policy_entry():
    pages = dict(_pages(get_resolver().url_patterns))
    assert "metrics/" in pages and "health/" in pages
    missing = {route: name for route, name in pages.items() if name not in PAGES}
    assert missing == {}, f"routes with no entry in ketaminecare.access.operations.PAGES: {missing}"
    assert {PAGES[name] for name in pages.values()} <= set(OPERATIONS)
