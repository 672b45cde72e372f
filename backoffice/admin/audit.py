from typing import Any

from django.contrib import admin
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from typing_extensions import override

from audit.models import AuditEvent
from backoffice.admin.base import ViewOnlyAdmin
from ketaminecare.access import labels
from ketaminecare.access.admin_rights import admin_may


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    """Administrators read and filter the trail; nobody adds, changes or deletes through here."""

    list_display = (
        "occurred_at",
        "actor_username",
        "roles",
        "channel",
        "action",
        "verb",
        "object_type",
        "object_id",
        "patient_ids",
        "ip_address",
    )
    list_filter = ("channel", "action", "object_type", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("actor_username", "object_id", "request_id", "verb")
    date_hierarchy = "occurred_at"
    list_select_related = False
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @override
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and admin_may(request.user, labels.AUDIT_EVENT, "view"))

    @override
    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        # "patient:42" finds every event that touched patient 42.
        if search_term.startswith("patient:") and search_term[8:].isdigit():
            patient_id = int(search_term[8:])
            if connection.vendor == "postgresql":
                return queryset.filter(patient_ids__contains=[patient_id]), False
            # SQLite has no JSON containment: match the id as a whole element of the stored list.
            pattern = rf"[\[ ,]{patient_id}[,\]]"
            return queryset.annotate(ids_text=Cast("patient_ids", TextField())).filter(ids_text__regex=pattern), False
        return super().get_search_results(request, queryset, search_term)
