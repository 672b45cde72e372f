"""Throttles keyed by the trusted client address (ketaminecare/client.py), never by a header as sent."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import ScopedRateThrottle

from ketaminecare.client import client_address


class ClientAddressThrottle(ScopedRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_address(request) or "unknown"
