"""No text asks a patient to reply with a word carriers treat as an opt-out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reminders.services.replies import CHANGE_WORDS, CONFIRM_WORDS, OPT_OUT_WORDS

TEMPLATES = Path(__file__).resolve().parents[2] / "reminders" / "templates" / "reminders"
# "Reply C", "reply C to confirm or R": every word offered as an answer.
OFFERED = re.compile(r"\breply\s+(\w+)(?:\s+to\s+[\w ]+?\s+or\s+(\w+)\b)?", re.IGNORECASE)


def offered_words(text: str) -> set[str]:
    return {word.upper() for match in OFFERED.finditer(text) for word in match.groups() if word}


def test_offered_words_are_read_from_the_text():
    assert offered_words("Reply C to confirm or R to ask for a change.") == {"C", "R"}


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.txt")), ids=lambda p: p.name)
def test_no_template_asks_for_an_opt_out_word_and_every_offered_word_is_understood(path: Path):
    words = offered_words(path.read_text())
    assert not words & OPT_OUT_WORDS
    assert words <= CONFIRM_WORDS | CHANGE_WORDS


def test_the_confirm_reminder_offers_c_and_r():
    text = (TEMPLATES / "session_confirm.sms.txt").read_text()
    assert "Reply C to confirm or R to ask for a change" in text
