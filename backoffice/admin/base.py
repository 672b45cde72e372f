"""Admin bases shared by the apps: every page asks the access policy (ketaminecare.access) which
rows it lists and which fields it shows, and rows that only the services may write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from typing_extensions import override

from ketaminecare.access.admin_rights import admin_may
from ketaminecare.access.fields import hidden_fields
from ketaminecare.access.records import scope_q

MSG_NOT_FOUND = "No such record, or not one you may see."

# The mixin is put before a ModelAdmin (Django's, or another package's); to the type checker it is
# one, so that its methods are checked as the overrides they are.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class PolicyAdminMixin(_ModelAdmin):
    """What the access policy says, on every page of a ModelAdmin.

    - rows: the queryset keeps the records' scope (``scope_q``), as the API's selectors do;
    - fields: list columns, the change form and read-only fields leave out the private fields the
      policy hides from the user (``hidden_fields``): the admin shows no more than the API;
    - a row outside the scope answers 404, as in the API (Django's admin would redirect to the
      index with a message, which tells apart "not there" from "not yours" no better and hides
      the refusal from anything but a person).

    - rights: view, add, change and delete are what the policy's admin table gives the user's
      roles (``admin_may``; a superuser holds the administrator's), and no more than the class
      itself allows. The Django group permissions ``roles_ensure`` derives say the same.
    """

    model: Any

    def _may(self, request: HttpRequest, right: str) -> bool:
        return admin_may(request.user, self.model._meta.label_lower, right)

    @override
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "view") and super().has_view_permission(request, obj)

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request, "add") and super().has_add_permission(request)

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "change") and super().has_change_permission(request, obj)

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "delete") and super().has_delete_permission(request, obj)

    @override
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scoped(request, super().get_queryset(request))

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` kept to the rows the user may see (for admins that build their own)."""
        return queryset.filter(scope_q(request.user, self.model._meta.label_lower))

    @override
    def _get_obj_does_not_exist_redirect(  # type: ignore[misc]  # Django's, private: not in django-stubs
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> Any:
        # Django's admin calls this for an object outside the queryset; some of its views before
        # asking for the right to see the model at all, so refuse that first (403), then 404.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        raise Http404(MSG_NOT_FOUND)

    def _hidden(self, request: HttpRequest) -> frozenset[str]:
        return hidden_fields(request.user, self.model._meta.label_lower)

    @override
    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_fields(request, obj) if name not in hidden]

    @override
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_readonly_fields(request, obj) if name not in hidden]

    @override
    def get_list_display(self, request: HttpRequest) -> Any:
        hidden = self._hidden(request)
        return [name for name in super().get_list_display(request) if name not in hidden]


class PolicyAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows and fields the access policy decides."""


class ServicesOnlyAdmin(PolicyAdmin):
    """Rows made and changed by the services only (through actions and custom views).

    No add, no delete, and a change form writes nothing: every field is read-only, so a forged
    POST has nothing to save.
    """

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @override
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        return


class ViewOnlyAdmin(ServicesOnlyAdmin):
    """Rows to read and filter, never to change here."""

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows of another record shown on a page to read, each linking to its own page, where any
    change goes through that record's services."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    @override
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @override
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
