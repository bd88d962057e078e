import datetime as dt

import pytest

from schemas.config import InputConfig
from transforms.core.records import Note, Quarantined, RawRecord
from transforms.ingest.validate import resolve_duplicates, validate_record

CONFIG = InputConfig(column_policies={"department": "keep"})


def check(fields):
    return validate_record(RawRecord("f.jsonl", 7, fields), CONFIG)


def test_valid_record_maps_columns():
    note = check(
        {
            "note_id": 12,
            "patient_id": "p",
            "text": "hello",
            "note_date": "2021-03-14",
            "note_type": "progress",
            "department": "icu",
            "author": "Dr X",
            "secret": "drop me",
        }
    )
    assert isinstance(note, Note)
    assert note.note_id == "12"
    assert note.note_date == dt.date(2021, 3, 14)
    assert note.columns == {"department": "icu"}
    assert "drop me" not in repr(note)


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"patient_id": "p", "text": "x"}, "missing_note_id"),
        ({"note_id": "  ", "patient_id": "p", "text": "x"}, "missing_note_id"),
        ({"note_id": "1", "text": "x"}, "missing_patient_id"),
        ({"note_id": "1", "patient_id": "p"}, "empty_text"),
        ({"note_id": "1", "patient_id": "p", "text": "  \n"}, "empty_text"),
        ({"note_id": "1", "patient_id": "p", "text": 42}, "text_not_string"),
        ({"note_id": "1", "patient_id": "p", "text": ["a"]}, "text_not_string"),
        (
            {"note_id": "1", "patient_id": "p", "text": "x", "note_date": "yesterday"},
            "invalid_note_date",
        ),
    ],
)
def test_bad_records_are_quarantined_with_a_reason(fields, reason):
    result = check(fields)
    assert isinstance(result, Quarantined)
    assert result.reason == reason
    assert (result.source_file, result.record_number) == ("f.jsonl", 7)


def test_oversized_text_is_quarantined():
    config = InputConfig(max_text_chars=10)
    raw = RawRecord("f", 1, {"note_id": "1", "patient_id": "p", "text": "x" * 11})
    result = validate_record(raw, config)
    assert result.reason == "text_too_long"
    assert "x" * 11 not in (result.detail or "")


def test_read_errors_pass_through():
    result = validate_record(RawRecord("f", 3, None, "invalid_utf8", "line 3"), CONFIG)
    assert (result.reason, result.note_id) == ("invalid_utf8", None)


def test_every_copy_of_a_duplicate_is_quarantined():
    notes = [Note("b", 2, "n1", "p", "x"), Note("a", 5, "n1", "p", "y")]
    result = resolve_duplicates("n1", notes)
    assert [(q.source_file, q.reason) for q in result] == [
        ("a", "duplicate_note_id"),
        ("b", "duplicate_note_id"),
    ]
    assert resolve_duplicates("n2", notes[:1]) == notes[:1]
