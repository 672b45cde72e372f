"""GET /health/: is this web process able to serve? Checks the database and the broker, then
whatever the apps register (``register``; the reminders app adds its outbox's lag).

Answers 503 naming the parts that failed when one is down; 200 with status "degraded" naming
them when a part works but lags (a load balancer keeps sending traffic; a monitor alerts); else
200 "ok". Each check catches every exception on purpose: a probe that fails in any way (a refused
connection, a missing driver, a misconfigured URL) is a part that is down, to be reported, never a
500 of the health check itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)

# A check answers {"ok": bool, ...}, with "degraded": True when it works but falls behind. The
# apps' checks run only while the database answers (else their "ok" is None: not known).
Check = Callable[[], dict[str, Any]]

_REGISTERED: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """Add an app's check to /health/ (from its AppConfig.ready; a second call replaces it)."""
    _REGISTERED[name] = check


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means the database is not usable from here
        logger.warning("health: database unreachable (%s)", type(exc).__name__, extra={"event": "health_database_down"})
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    url = getattr(settings, "CELERY_BROKER_URL", "") or settings.REDIS_URL
    if not url:
        return {"ok": True, "transport": "none configured"}
    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:  # any failure means the broker is not usable from here
        logger.warning("health: broker unreachable (%s)", type(exc).__name__, extra={"event": "health_broker_down"})
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "transport": str(transport)}


@never_cache
@require_GET
def health(_request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    for name, check in _REGISTERED.items():
        # The apps' checks read the database: with it down, the database is the one part to name.
        up = checks["database"]["ok"]
        checks[name] = _guarded(name, check) if up else {"ok": None, "skipped": "the database is unreachable"}
    failing = sorted(name for name, check in checks.items() if check["ok"] is False)
    degraded = sorted(name for name, check in checks.items() if check["ok"] and check.get("degraded"))
    status = "unavailable" if failing else "degraded" if degraded else "ok"
    body: dict[str, Any] = {"status": status, "checks": checks}
    if failing:
        body["failing"] = failing
    if degraded:
        body["degraded"] = degraded
    return JsonResponse(body, status=503 if failing else 200)


def _guarded(name: str, check: Check) -> dict[str, Any]:
    try:
        return check()
    except Exception as exc:  # a check that fails in any way reports its part down
        logger.warning("health: %s check failed (%s)", name, type(exc).__name__, extra={"event": "health_check_failed"})
        return {"ok": False, "error": type(exc).__name__}
