"""Free time: the stretches in which a chair and a clinician (or a therapist alone) are free."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sessions.scheduling.busy import Spans, free_spans, intersect_spans, weekly_spans
from sessions.scheduling.clinic import ClinicState
from sessions.scheduling.instants import UTC


@dataclass(frozen=True)
class FreeBlock:
    """A stretch in which a chair and a clinician (or a therapist alone) are both free."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    staff_id: int


def free_blocks(
    state: ClinicState,
    *,
    first: dt.date,
    last: dt.date,
    length: dt.timedelta,
    chair_ids: Sequence[int] | None = None,
    clinician_ids: Sequence[int] | None = None,
    patient_id: int | None = None,
) -> list[FreeBlock]:
    """Every maximal stretch, at least ``length`` long, in which a chair and a clinician are free.

    A stretch lies inside the clinic's opening hours and the clinician's working hours of one
    local day, outside closures, busy time (sessions, time off) and, when ``patient_id`` is
    given, the patient's own sessions; nothing before ``state.not_before``.
    """
    chairs = [c for c in state.chair_ids if chair_ids is None or c in chair_ids]
    clinicians = sorted(c for c in state.clinician_hours if clinician_ids is None or c in clinician_ids)
    blocks: list[FreeBlock] = []
    day = first
    while day <= last:
        if day not in state.closures:
            for open_start, open_end in weekly_spans(state.clinic_hours, day, state.zone):
                if state.not_before is not None:
                    open_start = max(open_start, state.not_before.astimezone(UTC))
                if open_end - open_start < length:
                    continue
                blocks += _opening_blocks(
                    state,
                    day=day,
                    opening=(open_start, open_end),
                    chairs=chairs,
                    clinicians=clinicians,
                    length=length,
                    patient_id=patient_id,
                )
        day += dt.timedelta(days=1)
    blocks.sort(key=lambda b: (b.starts_at, b.chair_id or 0, b.staff_id))
    return blocks


def _opening_blocks(
    state: ClinicState,
    *,
    day: dt.date,
    opening: tuple[dt.datetime, dt.datetime],
    chairs: list[int],
    clinicians: list[int],
    length: dt.timedelta,
    patient_id: int | None,
) -> list[FreeBlock]:
    """The free blocks of every chair and clinician inside one stretch of opening hours."""
    open_start, open_end = opening
    open_spans: Spans = [opening]
    if patient_id is not None:
        open_spans = free_spans(state.busy, ("patient", patient_id), open_start, open_end)
    blocks: list[FreeBlock] = []
    for chair in chairs:
        chair_free = intersect_spans(open_spans, free_spans(state.busy, ("chair", chair), open_start, open_end))
        if not chair_free:
            continue
        for clinician in clinicians:
            working = intersect_spans(chair_free, weekly_spans(state.clinician_hours[clinician], day, state.zone))
            for work_start, work_end in working:
                blocks += [
                    FreeBlock(start, end, chair, clinician)
                    for start, end in free_spans(state.busy, ("clinician", clinician), work_start, work_end)
                    if end - start >= length
                ]
    return blocks


def therapist_free_blocks(
    state: ClinicState,
    *,
    therapist_ids: Sequence[int],
    opens: dt.datetime,
    closes: dt.datetime,
    length: dt.timedelta,
) -> list[FreeBlock]:
    """Each therapist's working, unbooked stretches of at least ``length`` inside [opens, closes)."""
    zone = state.zone
    opens, closes = opens.astimezone(UTC), closes.astimezone(UTC)
    if state.not_before is not None:
        opens = max(opens, state.not_before.astimezone(UTC))
    blocks: list[FreeBlock] = []
    for therapist in therapist_ids:
        hours = state.therapist_hours.get(therapist)
        if hours is None or opens >= closes:
            continue
        day = opens.astimezone(zone).date()
        while day <= closes.astimezone(zone).date():
            for work_start, work_end in intersect_spans([(opens, closes)], weekly_spans(hours, day, zone)):
                for start, end in free_spans(state.busy, ("therapist", therapist), work_start, work_end):
                    if end - start >= length:
                        blocks.append(FreeBlock(start, end, None, therapist))
            day += dt.timedelta(days=1)
    blocks.sort(key=lambda b: (b.starts_at, b.staff_id))
    return blocks
