"""Step 7 inside the note step: codes with evidence on both texts, failing closed."""

import pytest

from schemas.config import DeidcodeConfig, parse_config
from tests.transforms.deid.test_note import KEYS, EveryRoe, components, note
from transforms.coding.suggest import CodeSuggester
from transforms.core.entities import Assertion, ClinicalEntity
from transforms.deid.components import DeidComponents
from transforms.deid.note import deidentify_note

DEFAULT = DeidComponents.from_config(DeidcodeConfig())
CODIESP = DeidComponents.from_config(
    parse_config({"coding": {"include_negated": True, "historical": "condition"}})
)


def coded(text, found, steps=DEFAULT):
    chosen = components(EveryRoe(), entities=steps.entities, coding=steps.coding)
    return deidentify_note(
        note(text), components=chosen, keys=KEYS, run_id="r", entities=tuple(found)
    )


def problem(text, surface, **assertion):
    start = text.index(surface)
    return ClinicalEntity(
        start, start + len(surface), "PROBLEM", 0.9, "m:1", Assertion(**assertion)
    )


def test_codes_carry_their_entity_and_evidence_on_the_redacted_text():
    text = "Mr. Roe has Roe syndrome and essential hypertension."
    outcome = coded(text, [problem(text, "essential hypertension"), problem(text, "Roe syndrome")])
    assert outcome.quarantined is None
    released = outcome.note_row["text_deid"]
    rows = {row["code"]: row for row in outcome.code_rows}
    hypertension = rows["I10"]
    assert hypertension["status"] == "suggested" and hypertension["rank"] >= 1
    entity_ids = {row["entity_id"] for row in outcome.entity_rows}
    assert hypertension["entity_id"] in entity_ids
    span = hypertension["evidence"][0]
    assert text[span["start"] : span["end"]] == "essential hypertension"
    assert released[span["start_deid"] : span["end_deid"]] == span["text_deid"]
    for row in outcome.code_rows:
        for span in row["evidence"]:
            if span["start_deid"] is not None:
                # Evidence on the released text is cut from it: never the original name.
                assert "Roe" not in span["text_deid"]
                assert released[span["start_deid"] : span["end_deid"]] == span["text_deid"]


def test_a_coder_mention_is_asserted_before_it_is_coded():
    # No entity at all: "fever" is a phrase the training lexicon knows.
    affirmed = coded("Patient with fever.", [])
    fever = [row for row in affirmed.code_rows if row["code"] == "R50.9"]
    assert fever and fever[0]["entity_id"] is None  # a coder mention, not an entity
    assert fever[0]["evidence"][0]["text_deid"] == "fever"
    negated = coded("No fever.", [])
    assert "R50.9" not in {row["code"] for row in negated.code_rows}
    assert "R50.9" in {row["code"] for row in coded("No fever.", [], CODIESP).code_rows}


def test_a_note_whose_coder_fails_is_quarantined(monkeypatch):
    def broken(self, text, entities, coder_mentions=()):
        raise RuntimeError(f"cannot code {text}")  # a message quoting the note

    monkeypatch.setattr(CodeSuggester, "suggest", broken)
    text = "Essential hypertension."
    outcome = coded(text, [problem(text, "Essential hypertension")])
    assert outcome.note_row is None and outcome.code_rows == []
    assert outcome.quarantined.reason == "coding_failed"
    assert outcome.quarantined.detail == "RuntimeError"


def test_coding_without_the_entity_step_is_refused():
    with pytest.raises(ValueError, match="needs the entity step"):
        components(entities=None, coding=DEFAULT.coding)
