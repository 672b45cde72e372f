"""Serializers of the front desk's follow-up: reminders and their delivery, the SMS inbox."""

from __future__ import annotations

from rest_framework import serializers

from reminders.models import DeliveryStatus, InboundMessage, Reminder


class ReminderSerializer(serializers.ModelSerializer):
    fallback: serializers.PrimaryKeyRelatedField[Reminder] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The email sent in its place when this SMS was not delivered."
    )

    # Empty until the provider reports on the message (and always for email).
    delivery_status = serializers.ChoiceField(choices=DeliveryStatus.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "kind",
            "channel",
            "status",
            "patient",
            "staff",
            "session",
            "appointment",
            "due_at",
            "sent_at",
            "delivery_status",
            "delivery_updated_at",
            "last_error",
            "fallback_for",
            "fallback",
        ]
        read_only_fields = fields


class InboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "from_number",
            "body",
            "received_at",
            "patient",
            "in_reply_to",
            "action",
            "note",
            "status",
            "handled_by",
            "handled_at",
        ]
        read_only_fields = fields


class WebhookAnswerSerializer(serializers.Serializer):
    """What the webhooks answer: the provider needs a 200 and nothing more."""

    received = serializers.BooleanField()
