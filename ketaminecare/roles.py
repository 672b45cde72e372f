"""The roles of the service, as Django groups. One name each, used everywhere."""

from django.db import models


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
    names = {group.name for group in user.groups.all()}  # type: ignore[attr-defined]
    if getattr(user, "is_superuser", False):
        names.add(Role.ADMINISTRATOR)
    return names
