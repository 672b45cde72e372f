"""Browser tests: Debian's Chromium driven by Playwright against a live server on PostgreSQL.

Chromium must be there (bin/test installs it): a missing browser fails the run, never skips it.
Every page a test opens is checked by axe-core, from the pinned npm package, and any error the
browser reports (a script error, a Content-Security-Policy refusal) fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "test-pass-123"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}

# Playwright's sync API keeps an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told the code is synchronous, which a test's setup is.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium (bin/test does)")
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run npm ci (bin/test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_sign_in_budget() -> None:
    """Every test signs in from 127.0.0.1; the sign-in throttle counts per address in the shared
    cache, so a run of browser tests would otherwise be refused (429) after the tenth sign-in."""
    cache.clear()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, timezone_id="America/New_York", base_url=live_server.url)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"script error: {error}"))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.errors = errors
    yield opened
    context.close()
    assert not [e for e in errors if "status of 409" not in e and "status of 400" not in e], errors


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def assert_accessible(page: Page) -> None:
    """axe-core's WCAG 2 A and AA rules find nothing on the page as it is now."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    problems = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:120]})" for v in result["violations"]
    ]
    assert problems == [], problems
