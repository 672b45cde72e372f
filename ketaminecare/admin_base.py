"""Admin bases shared by the apps: rows that only the services may write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


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
