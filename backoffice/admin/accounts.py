"""Administrators see locked accounts and unlock them; they see every API token and revoke one.
Django's user and group admins and axes' sign-in logs are registered again on the access policy."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from typing_extensions import override

from accounts.lockout import account_unlock
from accounts.models import ApiToken
from accounts.services import token_revoke
from backoffice.admin.base import PolicyAdminMixin, ViewOnlyAdmin
from ketaminecare.access import labels
from ketaminecare.access.admin_rights import admin_may

# The admins other packages register (Django's users and groups, axes' sign-in logs) keep their
# pages and ask the access policy for rows, fields and rights, as the project's own do.
for _model in (get_user_model(), Group, AccessLog, AccessFailureLog):
    _registered = type(admin.site._registry[_model])
    admin.site.unregister(_model)
    admin.site.register(_model, type(_registered.__name__, (PolicyAdminMixin, _registered), {}))

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(PolicyAdminMixin, AccessAttemptAdmin):
    """Failed sign-ins by account; the status column says which are locked."""

    actions = ["unlock"]
    # What a client posted stays out of sight: axes masks the password, not the rest.
    fieldsets = ((None, {"fields": ("username", "ip_address", "path_info", "failures_since_start", "attempt_time")}),)
    readonly_fields = ("username", "ip_address", "path_info", "failures_since_start", "attempt_time")

    @admin.action(description="Unlock the selected accounts", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        usernames = sorted({name for name in queryset.values_list("username", flat=True) if name})
        for username in usernames:
            account_unlock(username=username)
        self.message_user(request, f"Unlocked {len(usernames)} account(s).", messages.SUCCESS)

    @override
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_may(request.user, labels.ACCESS_ATTEMPT, "view")

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_may(request.user, labels.ACCESS_ATTEMPT, "delete")

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ViewOnlyAdmin):
    list_display = ("prefix", "user", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_because")
    list_filter = ("revoked_because",)
    search_fields = ("user__username", "prefix")
    fields = (*list_display, "user_agent")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens", permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True).values_list("id", flat=True))
        for token_id in live:
            token_revoke(token_id=token_id, because=ApiToken.RevokedBecause.ADMINISTRATOR)
        self.message_user(request, f"Revoked {len(live)} token(s).", messages.SUCCESS)

    @override
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_may(request.user, labels.API_TOKEN, "view")
