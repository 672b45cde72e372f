"""A protocol's reminder plan: which reminders, how long before, on which channels; and when a
planned patient reminder may go (quiet hours)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from courses.models import TreatmentProtocol
from patients.models import Patient
from reminders.models import (
    Channel,
    ReminderKind,
    ReminderRule,
)
from reminders.times import release_at

HOUR = 60


DAY = 24 * HOUR


@dataclass(frozen=True)
class PlanLine:
    kind: str
    minutes_before: int
    channels: tuple[str, ...]


# The plan of a protocol that has no ReminderRule of its own (the domain's typical plan).
DEFAULT_REMINDER_PLAN: tuple[PlanLine, ...] = (
    PlanLine(ReminderKind.SESSION_CONFIRM, 72 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.SESSION_PREPARE, 24 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.SESSION_SOON, 2 * HOUR, (Channel.SMS,)),
    PlanLine(ReminderKind.APPOINTMENT_DAY_BEFORE, 24 * HOUR, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.APPOINTMENT_SOON, 2 * HOUR, (Channel.SMS,)),
    PlanLine(ReminderKind.MAINTENANCE_DUE, 5 * DAY, (Channel.SMS, Channel.EMAIL)),
    PlanLine(ReminderKind.WINDOW_OPENED, 0, (Channel.EMAIL,)),
    PlanLine(ReminderKind.WINDOW_CLOSING, 6 * HOUR, (Channel.EMAIL,)),
)


def protocol_plan(protocol: TreatmentProtocol) -> list[PlanLine]:
    """The protocol's active rules, or the default plan when it has none at all."""
    rules = list(ReminderRule.objects.filter(protocol=protocol))
    if not rules:
        return list(DEFAULT_REMINDER_PLAN)
    return [PlanLine(r.kind, r.minutes_before, tuple(r.channels)) for r in rules if r.is_active and r.channels]


def plans_by_protocol(protocol_ids: Iterable[int]) -> dict[int, list[PlanLine]]:
    """Plans for many protocols in one query (the sweep's window alerts)."""
    ids = set(protocol_ids)
    found: dict[int, list[PlanLine]] = {}
    seen: set[int] = set()
    for rule in ReminderRule.objects.filter(protocol_id__in=ids):
        seen.add(rule.protocol_id)
        if rule.is_active and rule.channels:
            found.setdefault(rule.protocol_id, []).append(
                PlanLine(rule.kind, rule.minutes_before, tuple(rule.channels))
            )
    return {pid: found.get(pid, []) if pid in seen else list(DEFAULT_REMINDER_PLAN) for pid in ids}


def window_closing_minutes(lines: Sequence[PlanLine]) -> int | None:
    minutes = [line.minutes_before for line in lines if line.kind == ReminderKind.WINDOW_CLOSING]
    return max(minutes) if minutes else None


def quiet_hours_exemption() -> dt.timedelta:
    return dt.timedelta(minutes=settings.REMINDER_QUIET_HOURS_EXEMPT_MINUTES)


def patient_release_at(patient: Patient, planned: dt.datetime, anchor: dt.datetime) -> dt.datetime:
    return release_at(
        planned=planned,
        anchor=anchor,
        zone=patient.zone,
        quiet_start=patient.quiet_hours_start,
        quiet_end=patient.quiet_hours_end,
        exempt_within=quiet_hours_exemption(),
    )
