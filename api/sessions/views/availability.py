"""The free-time search: where a session could go."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from api.sessions import serializers as s
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from sessions.selectors import (
    availability_between,
)


class AvailabilityView(AuditedViewMixin, generics.GenericAPIView):
    """Free chair-and-clinician stretches, long enough for one session of the protocol."""

    permission_classes = (ActionRoles,)
    policy_resource = "availability"
    serializer_class = s.FreeBlockSerializer
    filter_backends = ()

    @extend_schema(
        summary="Free chair-and-clinician blocks between two dates for a protocol",
        parameters=[s.AvailabilityQuerySerializer],
        responses={200: s.FreeBlockSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = s.AvailabilityQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        blocks = availability_between(
            first=data["start"],
            last=data["end"],
            session_length=dt.timedelta(minutes=data["protocol"].session_minutes),
            chair_id=data["chair"].pk if data.get("chair") else None,
            clinician_id=data["clinician"].pk if data.get("clinician") else None,
            patient_id=data["patient"].pk if data.get("patient") else None,
            now=timezone.now(),
        )
        if data.get("patient"):
            # The free times of a named patient are a read of that patient's schedule.
            self.audit_touch(patient_ids=[data["patient"].pk])
        page = self.paginate_queryset(cast(Any, blocks))
        return self.get_paginated_response(s.FreeBlockSerializer(page, many=True).data)
