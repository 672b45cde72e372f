"""The one enumeration of rule names: every name the services compose is listed, and is its string."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from courses.models import Course
from ketaminecare.errors import RuleViolation
from ketaminecare.rules import Rule
from sessions.models import TreatmentSession
from sessions.services.lifecycle import ALLOWED_FROM

REFUSED_SESSION_TRANSITIONS = [
    (action, status)
    for action, allowed in ALLOWED_FROM.items()
    for status in TreatmentSession.Status.values
    if status not in allowed
]
REFUSED_COURSE_CANCELS = [status for status in Course.Status.values if status not in Course.ACTIVE_STATUSES]


@pytest.mark.parametrize(("action", "status"), REFUSED_SESSION_TRANSITIONS)
def test_every_refused_session_transition_names_a_listed_rule(action, status):
    assert Rule.transition(action, status) == f"{action}_from_{status}"


@pytest.mark.parametrize("status", REFUSED_COURSE_CANCELS)
def test_every_refused_course_cancel_names_a_listed_rule(status):
    assert Rule.transition("cancel", status) == f"cancel_from_{status}"


def test_a_transition_that_is_not_listed_has_no_rule():
    with pytest.raises(ValueError, match="launch_from_orbit"):
        Rule.transition("launch", "orbit")


def test_a_rule_is_its_string_in_the_error_body():
    body = RuleViolation("The gap is too short.", rule=Rule.MIN_GAP, field="starts_at").as_dict()

    assert json.loads(json.dumps(body))["rule"] == "min_gap"
    assert f"{Rule.MIN_GAP}" == "min_gap"


def _app_sources() -> list[Path]:
    """The Python files of the apps and the project (not tests, benchmarks or migrations)."""
    root = Path(__file__).resolve().parents[2]
    apps = [d for d in root.iterdir() if (d / "__init__.py").exists() and d.name not in {"tests", "bench"}]
    return [path for app in apps for path in app.rglob("*.py") if "migrations" not in path.parts]


def test_every_rule_name_still_written_as_a_string_is_listed():
    """A module not yet on the enumeration must still name only listed rules."""
    pattern = re.compile(r"""\b(?:rule|code)=["'](\w+)["']""")
    found = {(path.name, name) for path in _app_sources() for name in pattern.findall(path.read_text())}
    unlisted = sorted((path, name) for path, name in found if name not in Rule._value2member_map_)

    assert found, "the scan found no rule name at all"
    assert unlisted == []
