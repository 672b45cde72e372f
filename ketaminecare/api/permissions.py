"""The API's permission class: it asks the access policy (ketaminecare.access.operations).

A view names its resource (``policy_resource``); the operation is that resource and the viewset
action, or for a plain view the HTTP method. Object-level visibility is the records' scope,
applied in the selectors (a patient's querysets only ever hold their own rows), so a foreign id
answers 404, never 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from ketaminecare.access.operations import ROUTE_RESOURCES, may, may_any
from ketaminecare.roles import user_roles


def has_role(user: Any, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def policy_resource_of(view: Any, request: Any = None) -> str | None:
    """The resource a view reads: its own ``policy_resource``, else the policy's entry for its URL."""
    resource = getattr(view, "policy_resource", None)
    if resource is None and request is not None:
        match = getattr(request, "resolver_match", None)
        resource = ROUTE_RESOURCES.get(getattr(match, "url_name", None) or "")
    return resource


def policy_action_of(view: Any, method: str) -> str:
    """The viewset action, or for a plain view the method (HEAD reads as GET)."""
    return getattr(view, "action", None) or ("get" if method == "HEAD" else method.lower())


class ActionRoles(BasePermission):
    """Lets a request through when the policy's operations table lets the caller's roles do it.

    An operation the table does not name is refused: a new action is closed until someone opens it.
    """

    message = "Your role may not do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        resource = policy_resource_of(view, request)
        if resource is None:
            return False
        if request.method == "OPTIONS":
            return may_any(request.user, resource)
        return may(request.user, f"{resource}.{policy_action_of(view, request.method)}")
