"""The access package: one privacy vocabulary for messages and feeds, and the private fields."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from calendars.ical import clean_text
from ketaminecare.access.fields import PRIVATE_FIELDS, SCREENING, SESSION, hidden_fields
from ketaminecare.access.privacy import forbidden_words
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
