"""Endpoints of the front desk's follow-up (reminders not delivered, the SMS inbox) and the SMS
provider's webhooks.

The webhooks have no sign-in: the provider proves itself by its signature (reminders.inbound),
checked before anything is read. While ``SMS_WEBHOOK_SECRET`` is unset they answer 404. A bad
signature is 403, an unreadable request 400, and a replayed message 200 with nothing done: a
provider retries anything but a 2xx.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.reminders import serializers as s
from audit.hooks import AuditedViewMixin
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import IdFilter
from ketaminecare.errors import InvalidInput, NotAllowed, NotFound
from ketaminecare.rules import Rule
from reminders.inbound import InboundAdapter, InboundError, inbound_adapter
from reminders.models import Channel, DeliveryStatus, InboundMessage, Reminder
from reminders.selectors import follow_up_q, inbound_messages_visible_to, reminders_visible_to
from reminders.services.delivery import delivery_status_record
from reminders.services.replies import inbound_message_handle, inbound_message_receive

MSG_WEBHOOK_OFF = "No SMS provider is connected."
MSG_BAD_SIGNATURE = "The request does not carry the provider's valid signature."


class ReminderFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    status = filters.ChoiceFilter(choices=Reminder.Status.choices)
    delivery_status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    follow_up = filters.BooleanFilter(method="filter_follow_up", label="Failed or not delivered")

    class Meta:
        model = Reminder
        fields: list[str] = []

    def filter_follow_up(self, queryset: Any, _name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(follow_up_q()) if value else queryset.exclude(follow_up_q())


@extend_schema_view(list=extend_schema(summary="Reminders; to follow up (failed or not delivered): follow_up=true"))
class ReminderViewSet(AuditedViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.ReminderSerializer
    filterset_class = ReminderFilter
    policy_resource = "reminders"

    def get_queryset(self) -> Any:
        return reminders_visible_to(self.request.user)


class InboundMessageFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=InboundMessage.Status.choices)
    action = filters.ChoiceFilter(choices=InboundMessage.Action.choices)
    patient = IdFilter(field_name="patient_id")

    class Meta:
        model = InboundMessage
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Patients' SMS replies (the front desk's inbox: status=new)"),
    retrieve=extend_schema(summary="An SMS reply"),
)
class InboundMessageViewSet(
    AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = (ActionRoles,)
    serializer_class = s.InboundMessageSerializer
    filterset_class = InboundMessageFilter
    policy_resource = "sms_inbox"

    def get_queryset(self) -> Any:
        return inbound_messages_visible_to(self.request.user)

    @extend_schema(
        summary="Mark an SMS reply handled",
        request=None,
        responses={200: s.InboundMessageSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def handle(self, request: Request, **_: Any) -> Response:
        message = self.get_object()
        handled = inbound_message_handle(message_id=message.pk, actor=request.user)
        return Response(s.InboundMessageSerializer(handled).data)


def webhook_url(request: Request) -> str:
    """The URL the provider called (its signature covers it): behind a proxy, the configured base."""
    base = settings.SMS_WEBHOOK_BASE_URL.rstrip("/")
    return base + request.get_full_path() if base else request.build_absolute_uri()


class _Webhook(APIView):
    authentication_classes = ()
    permission_classes = (ActionRoles,)
    parser_classes = (FormParser,)
    http_method_names = ["post"]

    def verified_params(self, request: Request) -> tuple[InboundAdapter, dict[str, str]]:
        if not settings.SMS_WEBHOOK_SECRET:
            raise NotFound(MSG_WEBHOOK_OFF, rule=Rule.EXISTS)
        adapter = inbound_adapter()
        data = request.data
        params = {str(key): str(data.get(key, "")) for key in data} if hasattr(data, "keys") else {}
        if not adapter.verify(url=webhook_url(request), params=params, headers=request.headers):
            raise NotAllowed(MSG_BAD_SIGNATURE)
        return adapter, params


WEBHOOK_RESPONSES = {200: s.WebhookAnswerSerializer, **error_responses(400, 403, 404)}


class SmsInboundWebhook(_Webhook):
    """The provider posts each SMS a patient sends (form-encoded)."""

    policy_resource = "sms.inbound"

    @extend_schema(
        summary="Provider webhook: an inbound SMS (signed; a replay is acknowledged and ignored)",
        request={"application/x-www-form-urlencoded": {"type": "object", "additionalProperties": {"type": "string"}}},
        responses=WEBHOOK_RESPONSES,
        auth=[],
    )
    def post(self, request: Request) -> Response:
        adapter, params = self.verified_params(request)
        try:
            message = adapter.parse_inbound(params, received_at=timezone.now())
        except InboundError as exc:
            raise InvalidInput(str(exc), rule=Rule.REQUIRED) from exc
        inbound_message_receive(message=message)
        return Response({"received": True})


class SmsStatusWebhook(_Webhook):
    """The provider posts what became of each SMS the clinic sent (form-encoded)."""

    policy_resource = "sms.status"

    @extend_schema(
        summary="Provider webhook: a sent SMS's delivery status (signed)",
        request={"application/x-www-form-urlencoded": {"type": "object", "additionalProperties": {"type": "string"}}},
        responses=WEBHOOK_RESPONSES,
        auth=[],
    )
    def post(self, request: Request) -> Response:
        adapter, params = self.verified_params(request)
        try:
            update = adapter.parse_status(params)
        except InboundError as exc:
            raise InvalidInput(str(exc), rule=Rule.REQUIRED) from exc
        delivery_status_record(provider_message_id=update.provider_message_id, status=update.status)
        return Response({"received": True})
