"""Clinical values are never PHI: the research config releases every one unchanged.

Notes dense with vitals, grades, scores, doses, lab values, ratios, durations,
emergency numbers and section headers go through the whole default detector
set (patterns and the bundled ONNX model) and the research release config
(surrogates, date shifting). Each value must appear in the release as written,
while the real PHI beside it is still replaced.
"""

import os

import pytest

from tests.conftest import REPO_ROOT
from tests.pipeline.helpers import run_export, table, write_jsonl

CONFIG = REPO_ROOT / "examples" / "research_release.yaml"

NOTES = [
    (
        "NEURO: A&Ox3, strength 5/5 throughout, 2+ reflexes.\n"
        "CV: RRR, 2/6 SEM at LUSB. BP 116/84, HR 97, T 97.9, RR 18, SpO2 98% on 2L NC.\n"
        "RESP: clear, no rhonchi.\nPlan: metoprolol 25 mg PO BID, heparin 5000 units SC.\n"
        "Seen by Dr. Halvorsen; daughter Ingrid at bedside. Patient aged 92 years.",
        [
            "NEURO:",
            "A&Ox3",
            "5/5",
            "2+",
            "2/6 SEM",
            "BP 116/84",
            "HR 97",
            "T 97.9",
            "RR 18",
            "SpO2 98%",
            "2L",
            "RESP:",
            "metoprolol 25 mg",
            "5000 units",
        ],
        # An age from 90 on is PHI even beside durations and doses.
        ["Halvorsen", "Ingrid", "aged 92"],
    ),
    (
        "Labs: Na 135, K 4.1, Cr 1.2, Hgb 9.8, INR 1.1, lactate 2.3. ABG 7.32/45/80.\n"
        "GCS 15. APGAR 8/9. Pain 5/10. NIHSS of 4. I/O 2000/1500. 1:1 sitter.\n"
        "Symptoms for 3 days; POD 2 today. Family told to call 911 if worse.\n"
        "Musculoskeletal\nNo edema. Grade 3/6 murmur unchanged.\n"
        "Call back Mr. Okonkwo-Beale at 617-555-0142.",
        [
            "Na 135",
            "K 4.1",
            "Cr 1.2",
            "Hgb 9.8",
            "INR 1.1",
            "7.32/45/80",
            "GCS 15",
            "APGAR 8/9",
            "Pain 5/10",
            "NIHSS of 4",
            "2000/1500",
            "1:1",
            "3 days",
            "POD 2",
            "today",
            "911",
            "Musculoskeletal",
            "3/6 murmur",
        ],
        ["Okonkwo-Beale", "617-555-0142"],
    ),
]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    folder = tmp_path_factory.mktemp("values")
    export = write_jsonl(
        folder / "notes.jsonl",
        [
            {"note_id": f"n{i}", "patient_id": f"p{i}", "text": text}
            for i, (text, _, _) in enumerate(NOTES)
        ],
    )
    os.environ["DEIDCODE_KEY"] = "0123456789abcdef0123456789abcdef-values"
    try:
        assert run_export(export, folder / "out", config=CONFIG) == 0
    finally:
        del os.environ["DEIDCODE_KEY"]
    return {row["note_id"]: row["text_deid"] for row in table(folder / "out", "notes")}


@pytest.mark.parametrize("index", range(len(NOTES)))
def test_every_clinical_value_is_released_unchanged(released, index):
    text, values, _ = NOTES[index]
    missing = [value for value in values if value not in released[f"n{index}"]]
    assert not missing, f"changed or removed: {missing}"


@pytest.mark.parametrize("index", range(len(NOTES)))
def test_the_phi_beside_them_is_still_replaced(released, index):
    _, _, phi = NOTES[index]
    leaked = [value for value in phi if value in released[f"n{index}"]]
    assert not leaked, f"released: {leaked}"
