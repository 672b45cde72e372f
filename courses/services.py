"""The role groups and what each may do in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from ketaminecare.roles import Role

# Model permissions per role, as "<app_label>.<action>_<model>". The API applies its own
# object-level rules on top; these govern the admin.
_FRONT_DESK = [
    *(f"patients.{a}_patient" for a in ("view", "add", "change")),
    "courses.view_course",
    "courses.view_treatmentprotocol",
    "patients.view_screening",
    *(f"treatment_sessions.{a}_{m}" for m in ("treatmentsession",) for a in ("view", "change")),
    *(f"clinic.view_{m}" for m in ("chair", "clinichours", "closureday", "staffmember")),
    "treatment_sessions.view_integrationwindow",
    # The reminder outbox: failed reminders are the front desk's to follow up and send again.
    *(f"reminders.{a}_reminder" for a in ("view", "change")),
    *(f"clinic.{a}_{m}" for m in ("workinghours", "timeoff") for a in ("view", "add", "change")),
    *(f"treatment_sessions.{a}_integrationappointment" for a in ("view", "add", "change")),
]


_CLINICIAN = [
    *_FRONT_DESK,
    *(f"patients.{a}_screening" for a in ("add", "change")),
    "treatment_sessions.override_course_rules",
    "treatment_sessions.view_ruleoverride",
]


# Therapists read a patient's name and phone in the windows they book (as the API shows them),
# never the patient's record: the API's patients/ answers them 403, and so does the admin.
_THERAPIST = [
    "treatment_sessions.view_integrationwindow",
    *(f"treatment_sessions.{a}_integrationappointment" for a in ("view", "add", "change")),
]


# The apps whose every permission an administrator holds.
PRODUCT_APPS = ["auth", "clinic", "patients", "courses", "treatment_sessions", "reminders", "calendars"]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.FRONT_DESK: _FRONT_DESK,
    Role.CLINICIAN: _CLINICIAN,
    Role.THERAPIST: _THERAPIST,
    Role.PATIENT: [],
}


def roles_ensure() -> None:
    """Create the role groups and give each its permissions (idempotent; runs after migrate)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMINISTRATOR:
            wanted = Permission.objects.filter(content_type__app_label__in=PRODUCT_APPS)
        else:
            codes = ROLE_PERMISSIONS[role]
            query = Q(pk__in=[])
            for code in codes:
                app_label, codename = code.split(".")
                query |= Q(content_type__app_label=app_label, codename=codename)
            wanted = Permission.objects.filter(query)
        group.permissions.set(wanted)


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
