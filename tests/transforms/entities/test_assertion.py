"""ConText over clinical sentences: triggers, pseudo-triggers, scope ends, windows and
sections, with the bundled rules; rules load from and round-trip to dicts."""

import pytest

from transforms.entities.assertion import (
    RECENT_NOTES,
    AssertionRuleError,
    ContextAsserter,
    ContextRule,
    SectionRule,
    default_asserter,
)


def _assert(text, problem, label="PROBLEM"):
    start = text.index(problem)
    return default_asserter().assert_entities(text, [(start, start + len(problem), label)])[0]


@pytest.mark.parametrize(
    "text, problem, flags",
    [
        ("No evidence of pneumonia.", "pneumonia", {"negated"}),
        ("Patient denies chest pain or fever.", "fever", {"negated"}),
        ("There is no increase in the effusion.", "effusion", set()),  # pseudo-trigger
        ("Not only asthma but also eczema.", "asthma", set()),
        ("Denies fever but reports cough.", "cough", set()),  # "but" ends the scope
        ("History of asthma, now with pneumonia.", "asthma", {"historical"}),
        ("History of asthma, now with pneumonia.", "pneumonia", set()),
        ("Return if chest pain recurs.", "chest pain", {"hypothetical"}),
        ("Possible pneumonia.", "pneumonia", {"uncertain"}),
        ("Mother has diabetes.", "diabetes", {"family"}),
        ("His mother, who had diabetes, is here.", "diabetes", {"family"}),
        ("No family history of colon cancer.", "colon cancer", {"negated", "family"}),
        ("Patient has diabetes.", "diabetes", set()),
    ],
)
def test_bundled_rules(text, problem, flags):
    assertion = _assert(text, problem)
    said = {f for f in ("negated", "uncertain", "historical", "hypothetical", "family")
            if getattr(assertion, f)}  # fmt: skip
    assert said == flags, assertion


def test_a_scope_stays_in_its_sentence_and_window():
    assert not _assert("No fever. Cough for two days.", "Cough").negated
    # "not" reaches six words at most
    text = "It is not clear that the new medication helped the patient with her migraine."
    assert not _assert(text, "migraine").negated


def test_sections_set_what_they_imply_and_are_named():
    text = "FAMILY HISTORY:\nbreast cancer\n\nPAST MEDICAL HISTORY:\nasthma\n\nPLAN:\nasthma"
    start = text.index("breast cancer")
    pmh = text.index("asthma")
    plan = text.rindex("asthma")
    family, past, planned = default_asserter().assert_entities(
        text, [(start, start + 13, "PROBLEM"), (pmh, pmh + 6, "PROBLEM"), (plan, plan + 6, "X")]
    )
    assert family.family and family.section == "family_history"
    assert past.historical and past.section == "past_medical_history"
    assert planned.section == "plan" and not planned.historical
    assert "section:family_history" in family.rules


def test_rules_are_data_a_hospital_can_extend(tmp_path):
    rule = ContextRule.from_dict(
        {"literal": "nicht", "category": "negated_existence", "direction": "forward"}
    )
    assert ContextRule.from_dict(rule.to_dict()) == rule
    section = SectionRule.from_dict(
        {"name": "fam", "headers": ["Familie"], "sets": {"family": True}}
    )
    asserter = ContextAsserter([rule], [section])
    text = "Familie:\nnicht Diabetes"
    (assertion,) = asserter.assert_entities(text, [(text.index("Diabetes"), len(text), "PROBLEM")])
    assert assertion.negated and assertion.family
    assert assertion.rules == ("section:fam", "negated:nicht")


def test_malformed_rules_are_named():
    with pytest.raises(AssertionRuleError, match="'nope': unknown category 'MAYBE'"):
        ContextRule.from_dict({"literal": "nope", "category": "maybe", "direction": "FORWARD"})
    with pytest.raises(AssertionRuleError, match="unknown flags"):
        SectionRule.from_dict({"name": "x", "headers": ["X"], "sets": {"deceased": True}})


def test_a_rules_file_must_hold_a_list(tmp_path):
    from transforms.entities.assertion import load_rules

    path = tmp_path / "rules.yaml"
    path.write_text("context_rules: {literal: no}\n")
    with pytest.raises(AssertionRuleError, match=r"rules\.yaml: expected a mapping with a list"):
        load_rules(path)


def test_a_note_read_before_asserts_its_other_spans_as_a_fresh_reading_does():
    text = (
        "FAMILY HISTORY: mother with diabetes.\n"
        "No fever or chills, but cough. History of smoking. Pallor noted."
    )
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("fever", "cough", "smoking")]
    later = [(text.index(w), text.index(w) + len(w)) for w in ("chills", "Pallor", "diabetes")]
    warm = default_asserter()
    warm.assert_problems(text, spans)  # as the entity step does before the coder
    fresh = ContextAsserter(warm.rules, warm.sections)
    assert warm.assert_problems(text, later) == fresh.assert_problems(text, later)
    assert [a.negated for a in fresh.assert_problems(text, later)] == [True, False, False]


def test_an_asserter_keeps_the_last_notes_only():
    asserter = ContextAsserter(default_asserter().rules, default_asserter().sections)
    for n in range(RECENT_NOTES + 5):
        asserter.assert_problems(f"No fever on day {n}.", [(3, 8)])
    assert len(asserter._readings) == RECENT_NOTES
    assert "No fever on day 0." not in asserter._readings


def test_a_phrase_holding_a_trigger_is_told_apart():
    asserter = default_asserter()
    assert asserter.has_trigger("no fever") and asserter.has_trigger("history of smoking")
    assert not asserter.has_trigger("heavy smoker")
