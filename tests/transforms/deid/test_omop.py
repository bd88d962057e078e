"""The OMOP copy of a released note: NOTE and NOTE_NLP rows, as pure functions."""

from __future__ import annotations

import datetime as dt

from transforms.core.keyed import keyed_int
from transforms.deid.omop import OmopSettings, note_nlp_rows, omop_note_row

SETTINGS = OmopSettings(id_key=b"k" * 32, nlp_date=dt.date(2026, 11, 30))
TEXT = "Pt with [NAME] has no chest pain; hx of asthma. Seen by [NAME]."
NOTE_ROW = {
    "note_id": "1042",
    "patient_id": "a" * 32,
    "text_deid": TEXT,
    "note_date": dt.date(2024, 2, 3),
    "note_type": "44814640",
    "encounter_id": "b" * 32,
    "n_phi": 2,
    "note_title": "Progress note",
    "language_concept_id": "4180186",
}


def entity(start: int, end: int, **flags) -> dict:
    return {
        "entity_id": f"{start:04x}" + "f" * 60,
        "label": "PROBLEM",
        "start_deid": start,
        "end_deid": end,
        "text_deid": TEXT[start:end],
        "negated": False,
        "historical": False,
        "hypothetical": False,
        "family": False,
        "uncertain": False,
        "model": "clinical_ner_minilm:1.0",
        **flags,
    }


def test_a_note_row_maps_to_omop_note_with_keyed_integer_ids():
    row = omop_note_row(NOTE_ROW, SETTINGS)
    assert row["note_text"] == TEXT
    # Even an integer note_id is the hospital's number: the copy carries a keyed one.
    assert row["note_id"] == keyed_int(SETTINGS.id_key, "note", "1042") != 1042
    assert row["person_id"] == keyed_int(SETTINGS.id_key, "person", "a" * 32)
    assert row["visit_occurrence_id"] == keyed_int(SETTINGS.id_key, "visit", "b" * 32)
    assert 0 < row["person_id"] < 2**63
    assert row["note_date"] == dt.date(2024, 2, 3)
    assert row["note_class_concept_id"] == 44814640
    assert row["language_concept_id"] == 4180186
    assert row["note_type_concept_id"] == 0  # not released: no matching concept
    assert row["encoding_concept_id"] == 32678
    assert row["note_title"] == "Progress note"


def test_31_bit_ids_fit_the_official_ddls_integer_columns():
    narrow = OmopSettings(id_key=b"k" * 32, nlp_date=dt.date(2026, 1, 1), id_bits=31)
    row = omop_note_row(NOTE_ROW, narrow)
    assert all(0 < row[c] < 2**31 for c in ("note_id", "person_id", "visit_occurrence_id"))


def test_values_are_cut_to_the_ddls_varchar_widths():
    row = omop_note_row({**NOTE_ROW, "note_type": "x" * 80, "note_title": "t" * 300}, SETTINGS)
    assert len(row["note_source_value"]) == 50 and len(row["note_title"]) == 250


def test_ids_differ_by_kind_and_by_key():
    assert keyed_int(b"k", "person", "x") != keyed_int(b"k", "visit", "x")
    assert keyed_int(b"k", "person", "x") != keyed_int(b"j", "person", "x")


def test_note_nlp_rows_carry_the_term_its_offset_and_its_assertion():
    chest = entity(TEXT.index("chest pain"), TEXT.index("chest pain") + 10, negated=True)
    asthma = entity(TEXT.index("asthma"), TEXT.index("asthma") + 6, historical=True)
    rows = note_nlp_rows(NOTE_ROW, [chest, asthma], SETTINGS)
    assert [r["lexical_variant"] for r in rows] == ["chest pain", "asthma"]
    for row in rows:
        start = int(row["offset"])
        assert TEXT[start : start + len(row["lexical_variant"])] == row["lexical_variant"]
        assert row["lexical_variant"] in row["snippet"]
        assert row["note_id"] == omop_note_row(NOTE_ROW, SETTINGS)["note_id"]
        assert row["nlp_date"] == dt.date(2026, 11, 30)
    assert [(r["term_exists"], r["term_temporal"]) for r in rows] == [
        ("N", "present"),
        ("Y", "past"),
    ]
    assert "negated=true" in rows[0]["term_modifiers"]


def test_hypothetical_terms_do_not_exist_and_terms_inside_phi_get_no_row():
    hypothetical = entity(0, 2, hypothetical=True)
    inside_phi = {**entity(9, 13), "start_deid": None, "end_deid": None, "text_deid": None}
    rows = note_nlp_rows(NOTE_ROW, [hypothetical, inside_phi], SETTINGS)
    assert [r["term_exists"] for r in rows] == ["N"]
