"""The clinic as the planner sees it: hours, closures, chairs, staff and busy time, loaded once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sessions.scheduling.busy import BusyIndex, WeeklyHours


@dataclass
class ClinicState:
    """What the planner needs to know of the clinic, loaded once for the whole horizon."""

    zone: ZoneInfo
    clinic_hours: WeeklyHours
    closures: set[dt.date]
    chair_ids: list[int]
    clinician_hours: dict[int, WeeklyHours]
    therapist_hours: dict[int, WeeklyHours]
    # Keys: ("chair", id), ("clinician", id), ("patient", id), ("therapist", id). Staff time off
    # is entered as busy time too.
    busy: BusyIndex
    slot: dt.timedelta = dt.timedelta(minutes=15)
    integration_length: dt.timedelta = dt.timedelta(minutes=60)
    not_before: dt.datetime | None = None
