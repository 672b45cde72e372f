"""The reads the API and the admin need of the reminders app, each kept to the reader's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ketaminecare.access import labels as L
from ketaminecare.access.records import scope_q
from reminders.models import DELIVERY_PROBLEMS, InboundMessage, Reminder


def inbound_messages_visible_to(user: Any) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(scope_q(user, L.INBOUND_MESSAGE)).select_related("patient", "in_reply_to")


def reminders_visible_to(user: Any) -> QuerySet[Reminder]:
    return Reminder.objects.filter(scope_q(user, L.REMINDER)).select_related("fallback").order_by("-due_at", "-id")


def follow_up_q() -> Q:
    """The messages the front desk follows up: failed at the provider, or not delivered."""
    return Q(status=Reminder.Status.FAILED) | Q(delivery_status__in=list(DELIVERY_PROBLEMS))
