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


def test_no_rule_name_is_written_as_a_bare_string():
    """Every rule an error names comes from the one enumeration (ketaminecare.rules.Rule)."""
    pattern = re.compile(r"""\b(?:rule|code)=["'](\w+)["']""")
    sources = list(_app_sources())
    bare = sorted((path.name, name) for path in sources for name in pattern.findall(path.read_text()))

    assert len(sources) > 50, "the scan read too few of the application's modules"
    assert bare == []
