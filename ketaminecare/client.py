"""The client's address: one answer for throttling, lockouts, the audit trail and the logs.

``X-Forwarded-For`` is whatever the caller sent, plus one address appended by each proxy it
passed. Only the hops added by proxies the operator runs can be believed: with
``TRUSTED_PROXY_COUNT`` proxies in front (default 0, none), the client is the address the
outermost trusted proxy saw, the N-th from the right; with none, the header is ignored and the
client is the peer of the connection. Anything that is not an IP address falls back to the peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings


def address_from_meta(meta: Mapping[str, Any], trusted_proxies: int | None = None) -> str | None:
    """The client address in a WSGI environ or ``request.META``."""
    count = settings.TRUSTED_PROXY_COUNT if trusted_proxies is None else trusted_proxies
    peer = str(meta.get("REMOTE_ADDR") or "").strip()
    candidate = peer
    if count > 0:
        hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
        if hops:
            candidate = hops[-min(count, len(hops))]
    for value in (candidate, peer):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            continue
    return None


def client_address(request: Any) -> str | None:
    """The client address of a Django (or DRF) request."""
    return address_from_meta(request.META)
