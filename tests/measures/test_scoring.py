"""Scoring as the manuals say, without a database: every band's edges, each PCL-5 cluster, the
cut-point, the item-9 alert, and refusals that name the item at fault."""

from __future__ import annotations

from typing import Any

import pytest

from ketaminecare.errors import InvalidInput
from ketaminecare.rules import Rule
from measures.scoring import (
    GAD7,
    INSTRUMENTS,
    PCL5,
    PHQ9,
    ChangeRules,
    Instrument,
    change_of,
    instrument_of,
    score,
    severity_of,
    validated_answers,
)

CUTOFF = 33


def answers_totalling(instrument: Instrument, total: int) -> list[int]:
    """Answers that sum to ``total``, filled from item 1 (item 9 of a PHQ-9 stays 0 when it can)."""
    answers = [0] * instrument.items
    left = total
    for index in range(instrument.items):
        answers[index] = min(instrument.max_answer, left)
        left -= answers[index]
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_start_at_5_10_15_and_20(total: int, band: str):
    result = score(PHQ9, answers_totalling(PHQ9, total), ptsd_cutoff=CUTOFF)
    assert (result.total, result.severity) == (total, band)
    assert result.clusters is None and result.probable_ptsd is None


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"), (15, "severe"),
     (21, "severe")],
)  # fmt: skip
def test_gad7_bands_start_at_5_10_and_15(total: int, band: str):
    result = score(GAD7, answers_totalling(GAD7, total), ptsd_cutoff=CUTOFF)
    assert (result.total, result.severity) == (total, band)
    assert result.clusters is None and result.probable_ptsd is None and result.alert_items == ()


def test_totals_run_from_0_to_the_manuals_maximum():
    assert (PHQ9.max_total, GAD7.max_total, PCL5.max_total) == (27, 21, 80)
    assert score(PCL5, [4] * 20, ptsd_cutoff=CUTOFF).total == 80
    assert score(PCL5, [0] * 20, ptsd_cutoff=CUTOFF).total == 0


@pytest.mark.parametrize(
    ("cluster", "items"),
    [("B", range(1, 6)), ("C", range(6, 8)), ("D", range(8, 15)), ("E", range(15, 21))],
)
def test_each_pcl5_cluster_sums_its_own_items_only(cluster: str, items: range):
    answers = [4 if i in items else 0 for i in range(1, 21)]
    result = score(PCL5, answers, ptsd_cutoff=CUTOFF)
    assert result.clusters == {name: (4 * len(items) if name == cluster else 0) for name in "BCDE"}
    assert result.total == 4 * len(items)
    assert result.severity is None


def test_pcl5_clusters_add_up_to_the_total_with_different_answers():
    answers = [1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0]
    result = score(PCL5, answers, ptsd_cutoff=CUTOFF)
    assert result.clusters == {"B": 10, "C": 3, "D": 17, "E": 10}
    assert sum(result.clusters.values()) == result.total == 40


@pytest.mark.parametrize(("total", "probable"), [(32, False), (33, True), (34, True), (0, False), (80, True)])
def test_pcl5_probable_ptsd_from_the_cutoff(total: int, probable: bool):
    assert score(PCL5, answers_totalling(PCL5, total), ptsd_cutoff=33).probable_ptsd is probable


def test_pcl5_cutoff_is_the_callers_setting():
    answers = answers_totalling(PCL5, 31)
    assert score(PCL5, answers, ptsd_cutoff=31).probable_ptsd is True
    assert score(PCL5, answers, ptsd_cutoff=33).probable_ptsd is False


@pytest.mark.parametrize(("item9", "alert"), [(0, ()), (1, (9,)), (2, (9,)), (3, (9,))])
def test_phq9_item_9_above_0_calls_for_an_alert(item9: int, alert: tuple[int, ...]):
    answers = [0] * 8 + [item9]
    result = score(PHQ9, answers, ptsd_cutoff=CUTOFF)
    assert result.alert_items == alert
    assert result.total == item9


def test_other_items_at_their_maximum_raise_no_alert():
    assert score(PHQ9, [3] * 8 + [0], ptsd_cutoff=CUTOFF).alert_items == ()
    assert score(GAD7, [3] * 7, ptsd_cutoff=CUTOFF).alert_items == ()
    assert score(PCL5, [4] * 20, ptsd_cutoff=CUTOFF).alert_items == ()


def test_every_instrument_keeps_its_loinc_codes():
    assert (PHQ9.loinc_panel, PHQ9.loinc_total, PHQ9.loinc_items[9]) == ("44249-1", "44261-6", "44260-8")
    assert (GAD7.loinc_panel, GAD7.loinc_total) == ("69737-5", "70274-6")
    assert (PCL5.loinc_panel, PCL5.loinc_total) == ("101697-1", "101698-9")
    assert set(INSTRUMENTS) == {"phq9", "gad7", "pcl5"}


def test_severity_of_an_instrument_without_bands_is_none():
    assert severity_of(PCL5, 50) is None


def refusal(instrument: Instrument, answers: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validated_answers(instrument, answers)
    return caught.value


@pytest.mark.parametrize(
    ("answers", "field", "rule"),
    [
        ([0, 1, 2, 4, 0, 0, 0, 0, 0], "answers[3]", Rule.OUT_OF_RANGE),
        ([0, 1, 2, -1, 0, 0, 0, 0, 0], "answers[3]", Rule.OUT_OF_RANGE),
        ([0, 1, 2, None, 0, 0, 0, 0, 0], "answers[3]", Rule.REQUIRED),
        ([0, 1, 2, 1.5, 0, 0, 0, 0, 0], "answers[3]", Rule.INTEGER),
        ([0, 1, 2, "2", 0, 0, 0, 0, 0], "answers[3]", Rule.INTEGER),
        ([0, 1, 2, True, 0, 0, 0, 0, 0], "answers[3]", Rule.INTEGER),
        ([0] * 8, "answers[8]", Rule.ANSWER_COUNT),
        ([0] * 10, "answers[9]", Rule.ANSWER_COUNT),
        ([], "answers[0]", Rule.ANSWER_COUNT),
        ({"1": 0}, "answers", Rule.INVALID),
        ("000000000", "answers", Rule.INVALID),
    ],
)
def test_a_wrong_answer_is_refused_naming_the_item_and_the_rule(answers: Any, field: str, rule: str):
    error = refusal(PHQ9, answers)
    assert (error.field, error.rule, error.http_status) == (field, rule, 400)


def test_the_first_wrong_item_is_named_and_its_number_is_in_the_message():
    error = refusal(GAD7, [0, 0, 5, 9, 0, 0, 0])
    assert error.field == "answers[2]"
    assert error.message == "Item 3 of the GAD-7 is scored 0 to 3."


def test_pcl5_takes_4_and_refuses_5():
    assert validated_answers(PCL5, [4] * 20) == [4] * 20
    assert refusal(PCL5, [4] * 19 + [5]).field == "answers[19]"


def test_an_unknown_instrument_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as caught:
        instrument_of("bdi2")
    assert (caught.value.field, caught.value.rule) == ("instrument", Rule.CHOICE)


RULES = ChangeRules(response_drop_percent=50, remission_below=5, pcl5_meaningful_drop=10)


@pytest.mark.parametrize(
    ("baseline", "latest", "response", "remission"),
    [
        (20, 10, True, False),  # exactly half: a response
        (20, 11, False, False),
        (9, 4, True, True),  # below 5: remission
        (9, 5, False, False),  # 5 is not below 5
        (4, 4, False, True),  # remission without a response
        (0, 0, False, True),  # no baseline to drop from
        (10, 14, False, False),
    ],
)
def test_phq9_response_is_a_drop_of_half_and_remission_a_total_below_5(baseline, latest, response, remission):
    change = change_of(PHQ9, baseline, latest, rules=RULES)
    assert (change.response, change.remission, change.clinically_meaningful) == (response, remission, None)
    assert change.change == latest - baseline


@pytest.mark.parametrize(("baseline", "latest", "meaningful"), [(50, 40, True), (50, 41, False), (30, 45, False)])
def test_pcl5_change_of_10_points_or_more_is_clinically_meaningful(baseline, latest, meaningful):
    change = change_of(PCL5, baseline, latest, rules=RULES)
    assert change.clinically_meaningful is meaningful
    assert change.response is None and change.remission is None


def test_change_thresholds_are_the_callers_settings():
    strict = ChangeRules(response_drop_percent=60, remission_below=3, pcl5_meaningful_drop=15)
    assert change_of(PHQ9, 20, 10, rules=strict).response is False
    assert change_of(PHQ9, 20, 4, rules=strict).remission is False
    assert change_of(PCL5, 50, 40, rules=strict).clinically_meaningful is False


def test_percent_change_is_relative_to_the_baseline():
    assert change_of(GAD7, 12, 9, rules=RULES).percent_change == -25.0
    assert change_of(GAD7, 0, 3, rules=RULES).percent_change is None
    assert change_of(GAD7, 12, 9, rules=RULES).response is None
