from __future__ import annotations

import os

import pytest


@pytest.fixture
def redis_url() -> str:
    """The real Redis the processes use (bin/test sets REDIS_URL); missing fails, never skips."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("these tests need the real Redis: set REDIS_URL (see README)")
    return url
