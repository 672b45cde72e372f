"""The reminders in the admin: the outbox for the front desk (failed ones first), the per-protocol
plan for administrators."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from backoffice.admin.base import PolicyAdmin, ServicesOnlyAdmin
from reminders.models import InboundMessage, Reminder, ReminderRule
from reminders.services.replies import inbound_message_handle


@admin.register(ReminderRule)
class ReminderRuleAdmin(PolicyAdmin):
    list_display = ("protocol", "kind", "minutes_before", "send_sms", "send_email", "is_active")
    list_filter = ("protocol", "kind", "is_active")


@admin.register(Reminder)
class ReminderAdmin(ServicesOnlyAdmin):
    """Read-only: rows change through the services and the sweep. A failed reminder can be sent
    again (back to pending, due now), which is what the front desk does after fixing a number."""

    list_display = (
        "id",
        "kind",
        "channel",
        "status",
        "due_at",
        "attempts",
        "lease_expiries",
        "sent_at",
        "delivery_status",
        "last_error",
    )
    # Undelivered and failed SMS (delivery status) are the front desk's to follow up.
    list_filter = ("status", "delivery_status", "kind", "channel")
    date_hierarchy = "due_at"
    ordering = ("-due_at",)
    actions = ["send_again"]
    readonly_fields = [f.name for f in Reminder._meta.fields]
    list_select_related = False

    @admin.action(description="Send the selected failed reminders again", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        count = queryset.filter(status=Reminder.Status.FAILED).update(
            status=Reminder.Status.PENDING, due_at=timezone.now(), attempts=0, last_error=""
        )
        self.message_user(request, f"{count} reminder(s) will go with the next sweep.", messages.SUCCESS)


@admin.register(InboundMessage)
class InboundMessageAdmin(ServicesOnlyAdmin):
    """The patients' SMS replies: those no keyword answered wait as new for the front desk."""

    list_display = ("id", "received_at", "patient", "action", "status", "note")
    list_filter = ("status", "action")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    actions = ["mark_handled"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields]
    list_select_related = ("patient",)

    @admin.action(description="Mark the selected messages handled", permissions=["change"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        ids = list(queryset.filter(status=InboundMessage.Status.NEW).values_list("pk", flat=True))
        for message_id in ids:
            inbound_message_handle(message_id=message_id, actor=request.user)
        self.message_user(request, f"{len(ids)} message(s) marked handled.", messages.SUCCESS)
