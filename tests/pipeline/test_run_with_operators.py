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
