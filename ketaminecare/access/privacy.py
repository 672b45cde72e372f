"""The one vocabulary a patient message, a calendar feed or an event title never contains.

A reminder, a feed on a lock screen or a calendar title may be read by someone else: none of
them names a drug, a diagnosis or a mental-health treatment. Words are matched as stems at the
start of a word, case-insensitively. "Treatment" alone is allowed: a "Treatment room 2" names a
place, not a condition.
"""

from __future__ import annotations

import re

FORBIDDEN_PATTERN = re.compile(
    r"\b("
    r"(es)?ketamine|spravato|ptsd|post[- ]?traumatic|trauma\w*|(anti)?depress\w*|infusion\w*|"
    r"therap\w*|psychiatr\w*|psycholog\w*|psychedelic\w*|psychotherap\w*|mental[- ]health|"
    r"diagnos\w*|dos(e|es|ed|ing)|drugs?|medication\w*|an(a)?esthe\w*|suicid\w*|integration|rems"
    r")\b",
    re.IGNORECASE,
)


def forbidden_words(text: str) -> list[str]:
    """The forbidden words ``text`` contains, lower-cased, each once, in order."""
    return sorted({m.group(0).lower() for m in FORBIDDEN_PATTERN.finditer(text)})


def is_private_safe(text: str) -> bool:
    """Whether ``text`` may go where someone else may read it (it holds no forbidden word)."""
    return FORBIDDEN_PATTERN.search(text) is None
