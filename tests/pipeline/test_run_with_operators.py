"""Date shifting and Safe Harbor generalisation through `deidcode run`."""

import datetime as dt

from tests.pipeline.helpers import run_export, table, write_jsonl

CONFIG = """
redaction:
  phi_types:
    DATE: {type: date_shift}
    AGE: {type: generalize}
  subtypes:
    ZIP: {type: generalize}
    MRN: {type: hash, format_preserving: true}
"""


def test_dates_shift_consistently_across_files_and_runs(tmp_path, run_key):
    write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "note_id": "a1",
                "patient_id": "P1",
                "note_date": "2021-03-14",
                "text": "Admitted 03/14/2021, MRN: 12345678. A 93 yo woman from Lowell, MA 01852.",
            },
        ],
    )
    write_jsonl(
        tmp_path / "b.jsonl",
        [
            {
                "note_id": "b1",
                "patient_id": "P1",
                "note_date": "2021-03-20",
                "text": "Discharged 03/20/2021 (admitted March 14, 2021).",
            },
            {
                "note_id": "b2",
                "patient_id": "P2",
                "note_date": "2021-03-14",
                "text": "Seen 03/14/2021.",
            },
        ],
    )
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    texts = []
    for run in ("r1", "r2"):
        out = tmp_path / run
        assert run_export(tmp_path / "*.jsonl", out, config=config) == 0
        texts.append({n["note_id"]: n for n in table(out, "notes")})
    assert texts[0] == texts[1]
    notes = texts[0]
    a1, b1 = notes["a1"]["text_deid"], notes["b1"]["text_deid"]
    assert "03/14/2021" not in a1 + b1 and "03/20/2021" not in b1 and "March 14" not in b1
    admitted = dt.datetime.strptime(a1.split()[1].rstrip(","), "%m/%d/%Y").date()
    discharged = dt.datetime.strptime(b1.split()[1], "%m/%d/%Y").date()
    assert discharged - admitted == dt.timedelta(days=6)
    assert notes["a1"]["note_date"] == admitted  # structured and free-text dates agree
    assert notes["b1"]["note_date"] == discharged
    assert f"admitted {admitted:%B} {admitted.day}, {admitted.year}" in b1
    assert "90+ yo" in a1 and "018" in a1 and "01852" not in a1
    assert "12345678" not in a1 and "MRN: " in a1
    assert notes["b2"]["text_deid"] != "Seen " + a1.split()[1].rstrip(",") + "."


SURROGATE_CONFIG = """
input:
  column_policies:
    mrn: {type: hash, options: {length: 16}}
    patient_name: surrogate
    birth_date: {type: generalize, kind: date}
    zip: {type: generalize, kind: zip}
    admitted: date_shift
    comment: deid_text
redaction:
  default: {type: surrogate}
  subtypes:
    ZIP: {type: generalize}
detection:
  detectors:
    - name: presidio_patterns
"""


def surrogate_record(note_id, patient, text, comment=""):
    return {
        "note_id": note_id,
        "patient_id": patient,
        "note_date": "2021-03-14",
        "mrn": "00123456",
        "patient_name": "WHITLOCK, CORNELIUS",
        "birth_date": "1931-07-04",
        "zip": "03601",
        "admitted": "03/12/2021",
        "comment": comment,
        "department": "icu",
        "text": text,
    }


def test_surrogates_and_column_policies_hold_across_files_and_runs(tmp_path, run_key):
    write_jsonl(
        tmp_path / "a.jsonl",
        [
            surrogate_record(
                "a1", "P1", "Patient: Cornelius Whitlock. Dr. Harriet Lindqvist saw him."
            ),
            surrogate_record("a2", "P2", "Patient: Cornelius Whitlock. Seen today."),
        ],
    )
    write_jsonl(
        tmp_path / "b.jsonl",
        [
            surrogate_record(
                "b1",
                "P1",
                "PATIENT: WHITLOCK, seen by Dr. Lindqvist. Call 617-555-0142.",
                comment="Son called from 617-555-0142 for Mr. Whitlock.",
            )
        ],
    )
    config = tmp_path / "c.yaml"
    config.write_text(SURROGATE_CONFIG)
    runs = []
    for run in ("r1", "r2"):
        out = tmp_path / run
        assert run_export(tmp_path / "*.jsonl", out, config=config) == 0
        runs.append({n["note_id"]: n for n in table(out, "notes")})
    assert runs[0] == runs[1]
    notes = runs[0]
    a1, a2, b1 = notes["a1"], notes["a2"], notes["b1"]
    released = " ".join(str(v) for n in notes.values() for v in n.values())
    for original in ("Whitlock", "WHITLOCK", "Cornelius", "Lindqvist", "617-555-0142", "00123456"):
        assert original not in released
    # One patient, one surrogate per value: across notes, files, case and the name column.
    first, last = a1["text_deid"].removeprefix("Patient: ").split(".")[0].split()
    assert f"PATIENT: {last.upper()}," in b1["text_deid"]
    assert a1["patient_name"] == b1["patient_name"] == f"{last.upper()}, {first.upper()}"
    doctor = a1["text_deid"].split("Dr. ")[1].split()[1]
    assert f"Dr. {doctor}." in b1["text_deid"]
    assert f"Mr. {last}." in b1["comment"]
    phone = b1["text_deid"].split("Call ")[1].rstrip(".")
    assert len(phone) == 12 and phone[3] == phone[7] == "-" and phone in b1["comment"]
    # Another patient with the same name gets other surrogates; hashes still join.
    assert a2["text_deid"] != a1["text_deid"].split(" Dr.")[0] + " Seen today."
    assert a2["patient_name"] != a1["patient_name"]
    assert a1["mrn"] == a2["mrn"] and len(a1["mrn"]) == 16
    assert a1["birth_date"] == "1931" and a1["zip"] == "000"
    # The admission date keeps its interval to the note date, which moves by the same offset.
    admitted = dt.datetime.strptime(a1["admitted"], "%m/%d/%Y").date()
    assert a1["note_date"] - admitted == dt.timedelta(days=2)
    assert "department" not in a1  # no policy: dropped
    spans = table(tmp_path / "r1", "phi_spans")
    assert {s["field"] for s in spans if s["note_id"] == "b1"} == {"text", "comment"}
