"""GET /health/: is this web process able to serve? Checks the database and the broker.

Answers 200 when both answer, else 503 naming the parts that failed. Each check catches every
exception on purpose: a probe that fails in any way (a refused connection, a missing driver, a
misconfigured URL) is a part that is down, to be reported, never a 500 of the health check itself.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


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
    failing = sorted(name for name, check in checks.items() if not check["ok"])
    body: dict[str, Any] = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
