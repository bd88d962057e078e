"""ICD-10-CM conventions as plain functions: assertion, history codes, 7th characters."""

import json

import pytest

from transforms.coding.codeset import bundled_code_set
from transforms.coding.rules import (
    AssertionPolicy,
    CodingRuleError,
    Decision,
    HistoricalPolicy,
    HistoryCodes,
    HistoryRule,
    drop_unspecified_siblings,
    encounter_character,
    with_seventh_character,
)
from transforms.core.entities import Assertion


@pytest.mark.parametrize(
    ("assertion", "default", "gold_setting"),
    [
        (Assertion(), Decision.CODE, Decision.CODE),
        (Assertion(negated=True), Decision.SKIP, Decision.CODE),
        (Assertion(uncertain=True), Decision.SKIP, Decision.CODE),
        (Assertion(historical=True), Decision.HISTORY, Decision.CODE),
        # A relative's or a hypothetical condition is never the patient's, in any setting.
        (Assertion(family=True), Decision.SKIP, Decision.SKIP),
        (Assertion(hypothetical=True), Decision.SKIP, Decision.SKIP),
        (Assertion(negated=True, family=True), Decision.SKIP, Decision.SKIP),
    ],
)
def test_assertion_decides_what_is_coded(assertion, default, gold_setting):
    assert AssertionPolicy().decide(assertion) is default
    codiesp = AssertionPolicy(
        include_negated=True, include_uncertain=True, historical=HistoricalPolicy.CONDITION
    )
    assert codiesp.decide(assertion) is gold_setting


def test_history_codes_take_the_longest_prefix_and_keep_history_codes():
    history = HistoryCodes.load(bundled_code_set())
    assert history.history_code("I21.9") == "I25.2"  # old MI, not the circulatory default
    assert history.history_code("I26.99") == "Z86.711"
    assert history.history_code("I50.9") == "Z86.79"
    assert history.history_code("C34.90") == "Z85.9"
    assert history.history_code("C50.919") == "Z85.3"
    assert history.history_code("I25.2") == "I25.2"  # already a past condition
    assert history.history_code("R52") is None  # no history code for pain: not coded


def test_a_history_rule_file_naming_a_non_billable_code_is_refused(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"rules": [HistoryRule("I21", "Z86").to_dict()]}))
    with pytest.raises(CodingRuleError, match=r"history\.json.*Z86"):
        HistoryCodes.load(bundled_code_set(), path)
    path.write_text("{not json")
    with pytest.raises(CodingRuleError, match=r"history\.json"):
        HistoryCodes.load(bundled_code_set(), path)


def test_an_unspecified_code_yields_to_a_specific_one_of_its_category():
    code_set = bundled_code_set()
    kept = drop_unspecified_siblings(["E11.22", "E11.9", "N18.9", "I10"], code_set)
    assert kept == ["E11.22", "N18.9", "I10"]  # N18.9 has no specific sibling here
    assert drop_unspecified_siblings(["E11.9", "I10"], code_set) == ["E11.9", "I10"]


@pytest.mark.parametrize(
    ("context", "character", "code"),
    [
        ("closed fracture of the right femoral neck", "A", "S72.001A"),
        ("seen for the sequela of a fracture", "S", "S72.001S"),
        ("follow-up of a fracture, routine healing", "D", "S72.001D"),
    ],
)
def test_the_seventh_character_follows_the_text(context, character, code):
    assert encounter_character(context) == character
    assert with_seventh_character("S72.001A", character, bundled_code_set()) == code


def test_only_injury_codes_change_their_seventh_character():
    code_set = bundled_code_set()
    assert with_seventh_character("E11.22", "S", code_set) == "E11.22"
    # T14.90XG does not exist: the code is kept rather than made up.
    assert with_seventh_character("T14.90XA", "G", code_set) == "T14.90XA"
