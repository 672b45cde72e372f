"""Admin bases shared by the apps: rows that only the services may write, and private fields
left out for the roles that may not read them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaminecare.access.fields import hidden_fields


class ServicesOnlyAdmin(admin.ModelAdmin):
    """Rows made and changed by the services only (through actions and custom views).

    No add, no delete, and a change form writes nothing: every field is read-only, so a forged
    POST has nothing to save.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        return


class ViewOnlyAdmin(ServicesOnlyAdmin):
    """Rows to read and filter, never to change here."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PrivateFieldsAdminMixin:
    """Leaves out of every page (list columns, change form, read-only fields) the fields the access
    policy hides from the user (ketaminecare.access.fields): the admin shows no more than the API."""

    model: Any

    def _hidden(self, request: HttpRequest) -> frozenset[str]:
        return hidden_fields(request.user, self.model._meta.label_lower)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_fields(request, obj) if name not in hidden]  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_readonly_fields(request, obj) if name not in hidden]  # type: ignore[misc]

    def get_list_display(self, request: HttpRequest) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_list_display(request) if name not in hidden]  # type: ignore[misc]
