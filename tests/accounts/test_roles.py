"""The role groups: what each role may do, as the access policy grants it."""

from __future__ import annotations

import pytest

from accounts.roles import roles_ensure, user_with_role
from ketaminecare.roles import Role
from sessions.services.common import OVERRIDE_PERMISSION

pytestmark = pytest.mark.django_db


def test_only_clinicians_and_administrators_may_override_course_rules():
    roles_ensure()
    holders = {role: user_with_role(username=f"u-{role}", role=role).has_perm(OVERRIDE_PERMISSION) for role in Role}
    assert holders == {
        Role.FRONT_DESK: False,
        Role.CLINICIAN: True,
        Role.THERAPIST: False,
        Role.ADMINISTRATOR: True,
        Role.PATIENT: False,
    }
