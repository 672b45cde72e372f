"""The reminders in the admin: the outbox for the front desk (failed ones first), the per-protocol
plan for administrators."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from backoffice.admin.base import PolicyAdmin, ServicesOnlyAdmin
from reminders.models import Reminder, ReminderRule


@admin.register(ReminderRule)
class ReminderRuleAdmin(PolicyAdmin):
    list_display = ("protocol", "kind", "minutes_before", "send_sms", "send_email", "is_active")
    list_filter = ("protocol", "kind", "is_active")


@admin.register(Reminder)
class ReminderAdmin(ServicesOnlyAdmin):
    """Read-only: rows change through the services and the sweep. A failed reminder can be sent
    again (back to pending, due now), which is what the front desk does after fixing a number."""

    list_display = ("id", "kind", "channel", "status", "due_at", "attempts", "lease_expiries", "sent_at", "last_error")
    list_filter = ("status", "kind", "channel")
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
