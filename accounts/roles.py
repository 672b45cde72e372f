"""The role groups, each with exactly what the access policy lets it do, and logins in them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from ketaminecare.access.admin_rights import role_permissions
from ketaminecare.roles import Role


def roles_ensure() -> None:
    """Create the role groups and give each exactly the Django permissions the access policy's
    admin table names (ketaminecare.access.admin_rights); idempotent, runs after migrate."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        query = Q(pk__in=[])
        for app_label, codename in role_permissions(role):
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


def user_with_role(*, username: str, role: str, password: str | None = None, email: str = "", **names: Any) -> Any:
    """A login in one role's group; staff roles may use the admin."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email, **names})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    user.is_staff = role != Role.PATIENT
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user
