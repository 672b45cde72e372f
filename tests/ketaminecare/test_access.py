"""The access package: one privacy vocabulary for messages and feeds, and the private fields."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db.models import Q

from calendars.ical import clean_text
from ketaminecare.access import labels
from ketaminecare.access.admin_rights import role_permissions
from ketaminecare.access.events import calendar_owner_paths, calendar_scopes
from ketaminecare.access.fields import PRIVATE_FIELDS, SCREENING, SESSION, hidden_fields
from ketaminecare.access.operations import may
from ketaminecare.access.privacy import forbidden_words
from ketaminecare.access.records import NOTHING, scope_q
from ketaminecare.roles import Role
from reminders.messages import clean_free_text


@pytest.mark.parametrize(
    "text",
    ["Ketamine room", "PTSD clinic", "Trauma centre", "Therapy suite", "Depression unit", "Dose bay", "Integration"],
)
def test_feeds_and_messages_refuse_the_same_words(text: str):
    assert forbidden_words(text)
    assert clean_text(text) == ""
    assert clean_free_text(text, "fallback") == "fallback"


def test_a_neutral_place_passes_both():
    text = "Riverside Clinic, Treatment room 2"
    assert clean_text(text) == text
    assert clean_free_text(text) == text


class _Groups:
    def __init__(self, names: list[str]) -> None:
        self._names = names

    def all(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=name) for name in self._names]


def _user(*roles: str) -> SimpleNamespace:
    return SimpleNamespace(is_authenticated=True, is_superuser=False, groups=_Groups(list(roles)))


def test_private_fields_are_hidden_from_the_front_desk_and_shown_to_clinicians():
    assert hidden_fields(_user(Role.FRONT_DESK), SESSION) == {"dose_mg", "clinical_notes", "hold_reason"}
    assert hidden_fields(_user(Role.FRONT_DESK), SCREENING) == set(PRIVATE_FIELDS[SCREENING])
    assert hidden_fields(_user(Role.CLINICIAN), SESSION) == set()
    assert hidden_fields(_user(Role.FRONT_DESK, Role.CLINICIAN), SESSION) == set()
    assert hidden_fields(SimpleNamespace(is_authenticated=False), SESSION) == set(PRIVATE_FIELDS[SESSION])


class _Login:
    """A hashable stand-in for a user (a Q holding it is compared by value)."""

    is_authenticated = True
    is_superuser = False

    def __init__(self, *roles: str) -> None:
        self.groups = _Groups(list(roles))


def test_scope_q_keeps_a_patient_to_their_own_rows_and_staff_to_the_table():
    patient = _Login(Role.PATIENT)
    assert scope_q(patient, labels.SESSION) == Q(patient__user=patient)
    assert scope_q(_user(Role.FRONT_DESK), labels.SESSION) == Q()
    assert scope_q(_user(Role.THERAPIST), labels.SESSION) == NOTHING
    therapist = _Login(Role.THERAPIST)
    assert scope_q(therapist, labels.APPOINTMENT) == Q(therapist__user=therapist)
    assert scope_q(SimpleNamespace(is_authenticated=False), labels.PATIENT) == NOTHING


def test_a_label_without_a_scope_row_is_refused():
    with pytest.raises(KeyError):
        scope_q(_user(Role.ADMINISTRATOR), "courses.unknown")


def test_may_answers_from_the_operations_table_and_refuses_what_it_does_not_name():
    assert may(_user(Role.CLINICIAN), "sessions.hold")
    assert not may(_user(Role.FRONT_DESK), "sessions.hold")
    assert not may(_user(Role.THERAPIST), "patients.list")
    assert may(SimpleNamespace(is_authenticated=False), "auth.token.post")
    assert not may(SimpleNamespace(is_authenticated=False), "auth.me.get")
    assert may(_user(Role.PATIENT), "auth.me.get")
    assert not may(_user(Role.ADMINISTRATOR), "sessions.unknown_action")


def test_group_permissions_follow_the_admin_table_and_staff_time_is_written_as_in_the_api():
    front_desk = set(role_permissions(Role.FRONT_DESK))
    clinician = set(role_permissions(Role.CLINICIAN))
    assert ("clinic", "change_workinghours") in front_desk
    assert ("clinic", "view_workinghours") in clinician
    assert not {("clinic", "add_workinghours"), ("clinic", "change_timeoff")} & clinician
    assert ("treatment_sessions", "override_course_rules") in clinician
    assert ("treatment_sessions", "override_course_rules") not in front_desk
    assert not role_permissions(Role.PATIENT)
    assert not any(model.endswith("patient") for _, model in role_permissions(Role.THERAPIST))


def test_calendar_rows_give_therapists_no_sessions_and_their_own_appointments():
    therapist = _user(Role.THERAPIST)
    scopes = calendar_scopes(therapist)
    assert "session" not in scopes and "maintenance_session" not in scopes
    assert scopes["integration_appointment"] == "own"
    assert calendar_owner_paths(therapist, "integration_appointment") == ["therapist__user"]
    assert calendar_scopes(_user(Role.PATIENT))["session"] == "own"
    assert calendar_scopes(_user(Role.PATIENT, Role.FRONT_DESK))["session"] == "all"
