"""The roles of the service, as Django groups. One name each, used everywhere."""

from collections.abc import Callable
from contextvars import ContextVar

from django.db import models
from django.http import HttpRequest, HttpResponse


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    CLINICIAN = "clinician", "Clinician"
    THERAPIST = "therapist", "Therapist"
    ADMINISTRATOR = "administrator", "Administrator"
    PATIENT = "patient", "Patient"


def user_roles(user: object) -> set[str]:
    """The role names a user holds (superusers hold administrator)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = _request_roles.get()
    key = getattr(user, "pk", None)
    if cache is not None and key in cache:
        return set(cache[key])
    names = {group.name for group in user.groups.all()}  # type: ignore[attr-defined]
    if getattr(user, "is_superuser", False):
        names.add(Role.ADMINISTRATOR)
    if cache is not None:
        cache[key] = frozenset(names)
    return names


# Inside a request, each user's roles are read from the database once (the permission check, the
# fields a serializer hides and the audit row all ask); outside one, every call reads them.
_request_roles: ContextVar[dict[object, frozenset[str]] | None] = ContextVar("request_roles", default=None)


class RolesOncePerRequestMiddleware:
    """Keeps the roles read during one request for the rest of it, and forgets them after."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_roles.set({})
        try:
            return self.get_response(request)
        finally:
            _request_roles.reset(token)
