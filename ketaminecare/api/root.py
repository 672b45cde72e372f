"""GET /api/v1/: where each part of the API starts, so that a client can find its way in."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# The entry points, by the name a client reads and the route's own name.
ENTRY_POINTS = {
    "auth_token": "auth-token",
    "me": "auth-me",
    "tokens": "auth-tokens",
    "patients": "patient-list",
    "preferences": "me-preferences",
    "screenings": "screening-list",
    "protocols": "protocol-list",
    "courses": "course-list",
    "reschedule_requests": "reschedule-request-list",
    "chairs": "chair-list",
    "staff": "staff-list",
    "working_hours": "working-hours-list",
    "time_off": "time-off-list",
    "sessions": "session-list",
    "availability": "availability",
    "windows": "window-list",
    "appointments": "appointment-list",
    "calendar": "calendar",
    "feeds": "calendar-feed-list",
    "measures": "measure-list",
    "measure_alerts": "measure-alert-list",
    "schema": "schema",
    "docs": "api-docs",
}


class ApiRootView(APIView):
    """Links only: what each caller may do there is the endpoint's own answer."""

    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="api_root",
        auth=[],
        responses={200: inline_serializer("ApiRoot", {name: serializers.URLField() for name in ENTRY_POINTS})},
    )
    def get(self, request: Request) -> Response:
        return Response({name: reverse(route, request=request) for name, route in ENTRY_POINTS.items()})
