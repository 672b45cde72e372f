"""The OpenAPI schema and its interactive documentation, for signed-in users unless the operator
makes them public (API_DOCS_PUBLIC); Swagger UI comes from the sidecar package, never a CDN, and
its start-up script is a file of its own so that the page runs under a CSP without inline script.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response


def _docs_permissions() -> list[BasePermission]:
    return [AllowAny()] if settings.API_DOCS_PUBLIC else [IsAuthenticated()]


class SchemaView(SpectacularAPIView):
    def get_permissions(self) -> list[BasePermission]:
        return _docs_permissions()


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI; a visitor who is not signed in is sent to the sign-in page first (a redirect,
    where a permission class would answer a browser with a JSON 401)."""

    permission_classes = (AllowAny,)
    schema = None  # a page for people, not an operation of the API

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.API_DOCS_LOGIN_URL)
        response: Response = super().get(request, *args, **kwargs)
        return response
