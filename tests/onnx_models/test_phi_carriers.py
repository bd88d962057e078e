"""Carrier text for PHI training: spans point at their values, lines that may hold
PHI of their own never become carriers, held-out and dev data are never read."""

import json
import random

import pytest

pytest.importorskip("faker")

from onnx_models.recipes.phi_carriers import (  # noqa: E402
    ACI_HELD_OUT,
    Carriers,
    carrier_notes,
    in_calibration_slice,
    line_is_clean,
    load_carriers,
    with_subject_name,
)
from onnx_models.recipes.phi_values import ValueFactory  # noqa: E402


def write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def shared(tmp_path):
    data = tmp_path / "data"
    write(
        data / "codiesp_train_en.jsonl",
        [
            {
                "id": "c1",
                "text": "Abdomen soft and nontender on palpation.\n"
                "Seen at Hospital Clinic in March 2003.",
            },
            # In the calibration slice (its id hashes to 0 mod 10): never a carrier.
            {"id": "c2", "text": "CALIBRATION SLICE SENTENCE, never trained on."},
        ],
    )
    for corpus in ("ncbi_disease_sent", "bc5cdr_sent"):
        write(
            data / "ner" / corpus / "train.jsonl",
            [{"id": "s1", "text": "Mutations were found in two unrelated families."}],
        )
        # Dev splits are reported: a carrier from them would leak into training.
        write(
            data / "ner" / corpus / "dev.jsonl",
            [{"id": "d1", "text": "DEV SENTENCE MUST NOT BE READ at all."}],
        )
    notes = [
        {
            "note_id": f"a{i}",
            "text": f"Patient reports mild cough for one week, note {i}.\nMr. Alvarez was seen.",
        }
        for i in range(10)
    ]
    write(data / "aci_bench_notes.jsonl", notes)
    return tmp_path


def test_only_clean_train_lines_become_carriers(shared):
    carriers = load_carriers(shared)
    every = [line for lines in carriers.sentences.values() for line in lines]
    assert "Abdomen soft and nontender on palpation." in every
    assert not any("Hospital Clinic" in line or "Alvarez" in line for line in every)
    assert not any("DEV SENTENCE" in line for line in every)
    assert in_calibration_slice({"id": "c2"}) and not in_calibration_slice({"id": "c1"})
    assert not any("CALIBRATION SLICE" in line for line in every)
    aci = carriers.sentences["aci"]
    # Every fifth ACI-Bench note is held apart for the ACI-Bench target.
    held_out = {f"note {i}." for i in range(0, 10, ACI_HELD_OUT)}
    assert not any(line.endswith(tuple(held_out)) for line in aci) and len(aci) == 8


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("The patient denies chest pain or dyspnea.", True),
        ("Follow up with Dr. Kim next week.", False),
        ("Seen on 3/14 for cough.", False),
        ("Admitted in March with pneumonia.", False),
        ("She lives in Boston with her husband.", False),
    ],
)
def test_line_is_clean(line, clean):
    assert line_is_clean(line) is clean


def test_spans_point_at_inserted_phi_and_records_are_deterministic():
    carriers = Carriers({"codiesp": ["Abdomen soft and nontender on palpation.", "No edema."] * 5})
    first = carrier_notes(carriers, 40, seed=3)
    assert first == carrier_notes(carriers, 40, seed=3)
    assert first != carrier_notes(carriers, 40, seed=4)
    labels = set()
    for record in first:
        for span in record["spans"]:
            value = record["text"][span["start"] : span["end"]]
            assert value.strip() == value and value, (record["id"], span)
            labels.add(span["label"])
    assert {"DOCTOR", "DATE", "HOSPITAL"} <= labels
    # Carrier words are never inside a span.
    for record in first:
        for span in record["spans"]:
            assert "palpation" not in record["text"][span["start"] : span["end"]].lower()
    # Some records are terse ICU notes with system headers.
    assert any("NEURO:" in r["text"].upper() for r in first)


def test_a_patient_subject_becomes_a_name_and_the_rest_stays_real():
    carriers = Carriers({"aci": ["He remains on heparin drip overnight.", "She denies pain."] * 4})
    notes = carrier_notes(carriers, 60, seed=5)
    subjects = []
    for record in notes:
        text = record["text"]
        for span in record["spans"]:
            if span["label"] == "PATIENT" and text[span["end"] :].lower().startswith(
                (" remains on", " denies pain")
            ):
                subjects.append(text[span["start"] : span["end"]])
    assert len(subjects) > 20 and len(set(subjects)) > 15
    # Only the subject is replaced; the clinical words are never part of a span.
    carrier_words = {"he", "she", "remains", "denies"}
    assert not any(carrier_words & set(name.lower().split()) for name in subjects)
    # Half the time the pronoun stays, so the model also sees "He remains on ...".
    assert any(r["text"].lower().startswith(("he remains", "she denies")) for r in notes)


def test_only_a_patient_subject_is_replaced():
    values, rng = ValueFactory(1), random.Random(1)
    for _ in range(20):
        assert with_subject_name("Heparin was held overnight.", values, rng) == [
            "Heparin was held overnight."
        ]
        assert with_subject_name("Theophylline level normal.", values, rng) == [
            "Theophylline level normal."
        ]
