"""The outcome measures' instruments and their scoring, as their manuals state them: no ORM here.

PHQ-9 (Kroenke, Spitzer & Williams 2001): 9 items scored 0-3, total 0-27, severity bands from
5, 10, 15 and 20; any answer above 0 on item 9 (thoughts of self-harm) calls for a clinician.
GAD-7 (Spitzer et al. 2006): 7 items scored 0-3, total 0-21, bands from 5, 10 and 15.
PCL-5 (Weathers et al. 2013, National Center for PTSD): 20 items scored 0-4, total 0-80, the
DSM-5 clusters B (items 1-5), C (6-7), D (8-14) and E (15-20); a total at or above a cut-point
(33 by default: the ``MEASURES_PCL5_PROBABLE_PTSD_CUTOFF`` setting) suggests probable PTSD.

Each instrument keeps its LOINC codes (panel, total, and the items a message may name), so that
an export can speak them. The thresholds a clinic may configure are arguments, never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ketaminecare.errors import InvalidInput
from ketaminecare.rules import Rule


class InstrumentCode(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"
    PCL5 = "pcl5"


@dataclass(frozen=True)
class Band:
    """A severity band: totals from ``lowest`` up to the next band's lowest."""

    lowest: int
    name: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    items: int
    max_answer: int
    loinc_panel: str
    loinc_total: str
    bands: tuple[Band, ...] = ()
    # Cluster name -> the 1-based item numbers it sums.
    clusters: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # LOINC codes of single items that matter on their own (PHQ-9 item 9).
    loinc_items: dict[int, str] = field(default_factory=dict)

    @property
    def max_total(self) -> int:
        return self.items * self.max_answer


PHQ9_SELF_HARM_ITEM = 9

PHQ9 = Instrument(
    code=InstrumentCode.PHQ9,
    name="PHQ-9",
    items=9,
    max_answer=3,
    loinc_panel="44249-1",
    loinc_total="44261-6",
    bands=(
        Band(0, "minimal"),
        Band(5, "mild"),
        Band(10, "moderate"),
        Band(15, "moderately_severe"),
        Band(20, "severe"),
    ),
    loinc_items={PHQ9_SELF_HARM_ITEM: "44260-8"},
)
GAD7 = Instrument(
    code=InstrumentCode.GAD7,
    name="GAD-7",
    items=7,
    max_answer=3,
    loinc_panel="69737-5",
    loinc_total="70274-6",
    bands=(Band(0, "minimal"), Band(5, "mild"), Band(10, "moderate"), Band(15, "severe")),
)
PCL5 = Instrument(
    code=InstrumentCode.PCL5,
    name="PCL-5",
    items=20,
    max_answer=4,
    loinc_panel="101697-1",
    loinc_total="101698-9",
    clusters={
        "B": tuple(range(1, 6)),
        "C": (6, 7),
        "D": tuple(range(8, 15)),
        "E": tuple(range(15, 21)),
    },
)

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (PHQ9, GAD7, PCL5)}

SEVERITIES = ("minimal", "mild", "moderate", "moderately_severe", "severe")


@dataclass(frozen=True)
class Score:
    total: int
    severity: str | None
    clusters: dict[str, int] | None
    probable_ptsd: bool | None
    # The 1-based items whose answer calls for a clinician at once (PHQ-9 item 9 above 0).
    alert_items: tuple[int, ...]


def instrument_of(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise InvalidInput(
            f"Unknown instrument; one of {', '.join(INSTRUMENTS)}.", field="instrument", rule=Rule.CHOICE
        ) from None


def validated_answers(instrument: Instrument, answers: Any) -> list[int]:
    """The answers as integers, or InvalidInput naming the first item at fault (``answers[3]``)."""
    if not isinstance(answers, list | tuple):
        raise InvalidInput(
            f"Give the {instrument.items} answers of the {instrument.name} as a list.",
            field="answers",
            rule=Rule.INVALID,
        )
    for index, value in enumerate(answers[: instrument.items]):
        where = f"answers[{index}]"
        if value is None:
            raise InvalidInput(
                f"Item {index + 1} of the {instrument.name} has no answer.", field=where, rule=Rule.REQUIRED
            )
        # JSON's true and false are not scores, nor is 2.5 or "2".
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(
                f"Item {index + 1} of the {instrument.name} takes a whole number.", field=where, rule=Rule.INTEGER
            )
        if not 0 <= value <= instrument.max_answer:
            raise InvalidInput(
                f"Item {index + 1} of the {instrument.name} is scored 0 to {instrument.max_answer}.",
                field=where,
                rule=Rule.OUT_OF_RANGE,
            )
    if len(answers) != instrument.items:
        first_wrong = min(len(answers), instrument.items)
        raise InvalidInput(
            f"The {instrument.name} has {instrument.items} items; {len(answers)} answers were given.",
            field=f"answers[{first_wrong}]",
            rule=Rule.ANSWER_COUNT,
        )
    return list(answers)


def severity_of(instrument: Instrument, total: int) -> str | None:
    """The band ``total`` falls in (None for an instrument without bands)."""
    found = None
    for band in instrument.bands:
        if total >= band.lowest:
            found = band.name
    return found


def score(instrument: Instrument, answers: Sequence[int], *, ptsd_cutoff: int) -> Score:
    """Score a validated set of answers (``validated_answers``) as the instrument's manual says."""
    total = sum(answers)
    clusters = None
    if instrument.clusters:
        clusters = {name: sum(answers[i - 1] for i in items) for name, items in instrument.clusters.items()}
    alert_items: tuple[int, ...] = ()
    if instrument.code == InstrumentCode.PHQ9 and answers[PHQ9_SELF_HARM_ITEM - 1] > 0:
        alert_items = (PHQ9_SELF_HARM_ITEM,)
    return Score(
        total=total,
        severity=severity_of(instrument, total),
        clusters=clusters,
        probable_ptsd=total >= ptsd_cutoff if instrument.code == InstrumentCode.PCL5 else None,
        alert_items=alert_items,
    )


@dataclass(frozen=True)
class Change:
    """A course's change on one instrument, from its baseline to its latest measure."""

    baseline: int
    latest: int
    change: int
    percent_change: float | None
    # PHQ-9: a drop of at least ``response_drop_percent`` from baseline, and a total below
    # ``remission_below``. PCL-5: a drop of at least ``meaningful_drop`` points. None elsewhere.
    response: bool | None
    remission: bool | None
    clinically_meaningful: bool | None


@dataclass(frozen=True)
class ChangeRules:
    response_drop_percent: int = 50
    remission_below: int = 5
    pcl5_meaningful_drop: int = 10


def change_of(instrument: Instrument, baseline: int, latest: int, *, rules: ChangeRules) -> Change:
    """How far ``latest`` moved from ``baseline`` and what that means for the instrument.

    A baseline of 0 has no percentage (nothing to drop from), so no PHQ-9 response either.
    """
    delta = latest - baseline
    percent = round(100 * delta / baseline, 1) if baseline else None
    response = remission = meaningful = None
    if instrument.code == InstrumentCode.PHQ9:
        # A drop of at least half: latest <= baseline * (1 - p/100), kept in integers.
        response = baseline > 0 and 100 * (baseline - latest) >= rules.response_drop_percent * baseline
        remission = latest < rules.remission_below
    elif instrument.code == InstrumentCode.PCL5:
        meaningful = baseline - latest >= rules.pcl5_meaningful_drop
    return Change(
        baseline=baseline,
        latest=latest,
        change=delta,
        percent_change=percent,
        response=response,
        remission=remission,
        clinically_meaningful=meaningful,
    )
