"""GET /health/: is this web process able to serve? Checks the database and the broker."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unreachable", extra={"event": "health_database_down"})
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
    except (KombuOperationalError, OSError) as exc:
        logger.warning("health: broker unreachable", extra={"event": "health_broker_down"})
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "transport": str(transport)}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
