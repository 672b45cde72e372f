"""Endpoints of patients' reschedule requests."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.courses import serializers as s
from api.inputs import validated_input
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import IdFilter
from sessions.models import RescheduleRequest
from sessions.selectors import reschedule_requests_visible_to
from sessions.services.requests import reschedule_request_handle


class RescheduleRequestFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=RescheduleRequest.Status.choices)
    patient = IdFilter(field_name="patient_id")
    session = IdFilter(field_name="session_id")

    class Meta:
        model = RescheduleRequest
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Patients' requests to move a session (a patient: their own)"),
    retrieve=extend_schema(summary="A reschedule request"),
)
class RescheduleRequestViewSet(
    AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = (ActionRoles,)
    serializer_class = s.RescheduleRequestSerializer
    filterset_class = RescheduleRequestFilter
    policy_resource = "reschedule_requests"

    def get_queryset(self) -> Any:
        return reschedule_requests_visible_to(self.request.user)

    @extend_schema(
        summary="Close a request: handled or declined",
        request=s.RescheduleRequestHandleInputSerializer,
        responses={200: s.RescheduleRequestSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def handle(self, request: Request, **_: Any) -> Response:
        instance = self.get_object()
        data = validated_input(request, s.RescheduleRequestHandleInputSerializer)
        handled = reschedule_request_handle(request_id=instance.pk, outcome=data["outcome"], actor=request.user)
        return Response(s.RescheduleRequestSerializer(handled).data)
