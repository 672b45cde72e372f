"""GET /metrics/: figures for a monitoring system, in Prometheus's text format.

The apps register their collectors with prometheus_client's default registry (the reminders app:
the outbox's due, sent, failed, lag and re-claims); this view only writes them out. The figures
are counts and ages, never a name or a message. The scraper sends ``Authorization: Bearer
<METRICS_TOKEN>``; without that setting the route answers 404, as if it did not exist.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("metrics: a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
