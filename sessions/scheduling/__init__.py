"""Calendar arithmetic with no ORM in it: spacing, spans, windows, availability, planning.

Every instant here is timezone-aware. Durations between instants are elapsed time: they are
computed in UTC, never by adding a timedelta to a wall-clock datetime (which keeps the wall time
across a daylight-saving change and so is off by an hour). Recurring times are local wall time
in the clinic's zone, attached to the zone only once each occurrence is known.

The modules, from the ground up: ``instants`` (elapsed time, wall time, windows), ``series``
(wall-clock recurrences), ``busy`` (busy time and weekly hours), ``problems`` (course rules and
what breaks them), ``clinic`` (the clinic as loaded for planning), ``slots`` (one session's
place on one day), ``planner`` (a whole course), ``free_time`` (free blocks). The public names
are re-exported here, so ``from sessions.scheduling import ...`` reads the same as before.
"""

from ketaminecare.rules import Rule
from sessions.scheduling.busy import BusyIndex, Spans, WeeklyHours, free_spans, intersect_spans, within_weekly_hours
from sessions.scheduling.clinic import ClinicState
from sessions.scheduling.free_time import FreeBlock, free_blocks, therapist_free_blocks
from sessions.scheduling.instants import UTC, elapsed_after, local_instant, window_bounds
from sessions.scheduling.planner import Plan, ProposedSession, next_feasible_plan, plan_induction
from sessions.scheduling.problems import RULE_MESSAGES, CourseRules, Problem, course_rule_problems
from sessions.scheduling.series import (
    NonexistentLocalTime,
    SeriesTooLong,
    rrule_parts,
    rule_is_bounded,
    wall_clock_series,
)
from sessions.scheduling.slots import Preferences, find_slot, slot_problems, therapist_free_in

__all__ = [
    "RULE_MESSAGES",
    "UTC",
    "BusyIndex",
    "ClinicState",
    "CourseRules",
    "FreeBlock",
    "NonexistentLocalTime",
    "Plan",
    "Preferences",
    "Problem",
    "ProposedSession",
    "Rule",
    "SeriesTooLong",
    "Spans",
    "WeeklyHours",
    "course_rule_problems",
    "elapsed_after",
    "find_slot",
    "free_blocks",
    "free_spans",
    "intersect_spans",
    "local_instant",
    "next_feasible_plan",
    "plan_induction",
    "rrule_parts",
    "rule_is_bounded",
    "slot_problems",
    "therapist_free_blocks",
    "therapist_free_in",
    "wall_clock_series",
    "window_bounds",
    "within_weekly_hours",
]
