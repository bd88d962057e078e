"""The bundled coder on hand-made entities: assertion, combinations, 7th characters."""

import pytest

from transforms.coding.codeset import CodeSetError, bundled_code_set
from transforms.coding.model import DENSE_CODER
from transforms.coding.rules import AssertionPolicy, HistoricalPolicy
from transforms.coding.suggest import CANDIDATE, SUGGESTED, CodeSuggester, CodingSettings
from transforms.core.entities import Assertion, ClinicalEntity

GOLD_SETTING = AssertionPolicy(include_negated=True, historical=HistoricalPolicy.CONDITION)


def entities(text, *surfaces, **assertion):
    found = []
    for surface in surfaces:
        start = text.index(surface)
        found.append(
            ClinicalEntity(
                start, start + len(surface), "PROBLEM", 0.9, "test:1", Assertion(**assertion)
            )
        )
    return found


@pytest.fixture(scope="module")
def coder():
    return CodeSuggester.bundled(CodingSettings())


@pytest.fixture(scope="module")
def gold_coder():
    return CodeSuggester.bundled(CodingSettings(policy=GOLD_SETTING))


def suggested(coder, text, found):
    return [s.code for s in coder.suggest(text, found) if s.status == SUGGESTED]


def test_a_combination_code_replaces_the_unspecified_one(coder):
    text = "Type 2 diabetes mellitus with chronic kidney disease."
    codes = suggested(
        coder, text, entities(text, "Type 2 diabetes mellitus", "chronic kidney disease")
    )
    assert "E11.22" in codes and "E11.9" not in codes
    # Without the kidney disease, the plain code stands.
    text = "Type 2 diabetes mellitus."
    assert suggested(coder, text, entities(text, "Type 2 diabetes mellitus"))[0] == "E11.9"
    combination = next(s for s in coder.suggest(*_dm_ckd()) if s.code == "E11.22")
    # Its evidence holds both mentions' words: the specificity is shown.
    text = _dm_ckd()[0]
    surfaces = {text[start:end] for start, end in combination.evidence}
    assert "chronic kidney disease" in surfaces and {"diabetes", "mellitus"} & surfaces


def _dm_ckd():
    text = "Type 2 diabetes mellitus with chronic kidney disease."
    return text, entities(text, "Type 2 diabetes mellitus", "chronic kidney disease")


@pytest.mark.parametrize(
    ("text", "character"),
    [
        ("Closed fracture of the neck of the right femur.", "A"),
        ("Seen for sequela of fracture of the neck of the right femur.", "S"),
        ("Follow-up for fracture of the neck of the right femur, routine healing.", "D"),
    ],
)
def test_an_injury_code_takes_the_seventh_character_of_its_context(text, character):
    # Femur fractures are rare in CodiEsp, so their scores are low: list every candidate.
    coder = CodeSuggester.bundled(CodingSettings(max_candidates_per_note=100, candidate_floor=0))
    found = coder.suggest(text, entities(text, "fracture of the neck of the right femur"))
    femur = [s.code for s in found if s.code.startswith("S72.")]
    assert femur and femur[0] == f"S72.001{character}"
    assert all(code.endswith(character) for code in femur)


def test_a_negated_mention_is_coded_only_when_switched_on(coder, gold_coder):
    text = "No pneumonia."
    found = entities(text, "pneumonia", negated=True)
    assert coder.suggest(text, found) == []
    assert suggested(gold_coder, text, found)[0] == "J18.9"
    # The same mention, affirmed, is coded in the default setting.
    assert suggested(coder, text, entities(text, "pneumonia"))[0] == "J18.9"


def test_a_family_history_mention_is_never_coded(coder, gold_coder):
    text = "Mother has breast cancer."
    found = entities(text, "breast cancer", family=True)
    assert coder.suggest(text, found) == [] and gold_coder.suggest(text, found) == []


def test_a_historical_mention_becomes_its_history_code(coder, gold_coder):
    text = "History of pulmonary embolism."
    found = entities(text, "pulmonary embolism", historical=True)
    assert suggested(coder, text, found) == ["Z86.711"]
    assert suggested(gold_coder, text, found)[0].startswith("I26.")


def test_suggestions_are_billable_ranked_and_carry_their_entity_span(coder):
    code_set = bundled_code_set()
    text = (
        "Assessment: essential hypertension, chronic obstructive pulmonary disease with "
        "acute exacerbation, iron deficiency anemia and hematuria. Abdominal pain."
    )
    found = entities(
        text,
        "essential hypertension",
        "chronic obstructive pulmonary disease",
        "iron deficiency anemia",
        "hematuria",
        "Abdominal pain",
    )
    results = coder.suggest(text, found)
    assert [s.rank for s in results] == list(range(1, len(results) + 1))
    statuses = [s.status for s in results]
    assert statuses == sorted(statuses, key=lambda s: s != SUGGESTED)  # suggestions first
    assert set(statuses) <= {SUGGESTED, CANDIDATE}
    for suggestion in results:
        # A category with children (I10 has none; E11, D50 do) is never suggested.
        assert suggestion.code in code_set
        entity = found[suggestion.entity_index]
        assert suggestion.evidence[0] == (entity.start, entity.end)
        assert suggestion.description == code_set.get(suggestion.code).title
    assert {"I10", "R31.9"} <= set(suggested(coder, text, found))
    assert "D50" not in {s.code for s in results} and "D50.9" in {s.code for s in results}


def test_the_same_note_gives_the_same_codes(coder):
    text, found = _dm_ckd()
    assert coder.suggest(text, found) == coder.suggest(text, list(found))


def test_drug_entities_are_not_coded(coder):
    text = "Takes metformin."
    start = text.index("metformin")
    drug = ClinicalEntity(start, start + 9, "DRUG", 0.9, "test:1")
    assert coder.suggest(text, [drug]) == []


def test_only_the_dense_coder_loads_the_sentence_encoder(coder):
    dense = CodeSuggester.bundled(CodingSettings(model=DENSE_CODER))
    assert dense.model_name.startswith(f"{DENSE_CODER}:")
    assert dense.features.dense is not None and coder.features.dense is None
    text = "Assessment: essential hypertension."
    found = entities(text, "essential hypertension")
    assert suggested(dense, text, found) == suggested(coder, text, found) == ["I10"]


def test_an_unknown_coder_is_refused_by_name():
    with pytest.raises(CodeSetError, match="no bundled coder model 'icd10cm_coder_v9'"):
        CodeSuggester.bundled(CodingSettings(model="icd10cm_coder_v9"))
