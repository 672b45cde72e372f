"""Role checks for the API. Object-level visibility lives in the selectors (a patient's
querysets only ever hold their own rows), so a foreign id answers 404, never 403."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from ketaminecare.roles import Role, user_roles


def has_role(user: Any, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_permission(*roles: str, read_roles: tuple[str, ...] = ()) -> type[BasePermission]:
    """A permission class letting ``roles`` do anything and ``read_roles`` only read."""

    class HasRole(BasePermission):
        message = "Your role may not do this."

        def has_permission(self, request: Any, view: Any) -> bool:
            if has_role(request.user, *roles):
                return True
            return request.method in ("GET", "HEAD", "OPTIONS") and has_role(request.user, *read_roles)

    HasRole.__name__ = "HasRole_" + "_".join(roles)
    return HasRole


STAFF = (Role.FRONT_DESK, Role.CLINICIAN, Role.THERAPIST, Role.ADMINISTRATOR)
BOOKING_STAFF = (Role.FRONT_DESK, Role.CLINICIAN, Role.ADMINISTRATOR)


class ActionRoles(BasePermission):
    """The roles of each action, from the view's ``action_roles`` (viewset action or method name).

    An action the table does not name is refused: a new action is closed until someone opens it.
    """

    message = "Your role may not do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            return False
        table: dict[str, tuple[str, ...]] = getattr(view, "action_roles", {})
        if request.method == "OPTIONS":
            return any(has_role(request.user, *roles) for roles in table.values())
        action = getattr(view, "action", None) or ("get" if request.method == "HEAD" else request.method.lower())
        roles = table.get(action)
        return roles is not None and has_role(request.user, *roles)


ALL_ROLES = (*STAFF, Role.PATIENT)
CLINIC_WIDE = (Role.FRONT_DESK, Role.CLINICIAN, Role.ADMINISTRATOR)
CONFIGURERS = (Role.FRONT_DESK, Role.ADMINISTRATOR)
