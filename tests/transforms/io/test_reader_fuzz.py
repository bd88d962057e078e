"""Fuzzing the EHR readers: random and mutated inputs never crash a reader, every
input unit (line, message, row) gives exactly one record, and no error detail
carries input text."""

from __future__ import annotations

import base64
import csv
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.io.fhir import read_document_references
from transforms.io.hl7v2 import read_hl7v2
from transforms.io.readers import read_records

MARKER = "Zyxwvut"  # stands for PHI: it must never reach an error detail
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


def detail_leaks(records) -> list[str]:
    return [r.detail for r in records if r.detail and MARKER in r.detail]


def fhir_line(text: str, mutation: int, cut: float) -> str:
    document = {
        "resourceType": "DocumentReference",
        "id": f"d{MARKER}",
        "status": "current",
        "subject": {"reference": f"Patient/{MARKER}"},
        "date": "2024-01-02",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode((MARKER + text).encode()).decode(),
                }
            }
        ],
    }
    if mutation == 1:
        document["date"] = MARKER + text  # an invalid value
    elif mutation == 2:
        document["resourceType"] = "Patient"  # a wrong resource type in the file
    elif mutation == 3:
        document["content"][0]["attachment"]["data"] = MARKER + text  # not base64
    elif mutation == 4:
        document["content"][0]["attachment"] = {"url": f"Binary/{MARKER}"}
    elif mutation == 5:
        document["content"][0]["attachment"]["contentType"] = f"{MARKER}/{text}"
    elif mutation == 6:
        document[MARKER] = text  # an element the model does not know
    line = json.dumps(document)
    if mutation == 7:
        line = line[: int(len(line) * cut)] or "{"  # a truncated line
    return line


@FUZZ
@given(
    st.lists(
        st.tuples(words, st.integers(0, 7), st.floats(0.0, 0.99)),
        min_size=1,
        max_size=8,
    )
)
def test_fhir_reader(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "DocumentReference.ndjson"
        path.write_text("\n".join(fhir_line(*line) for line in lines) + "\n", encoding="utf-8")
        records = list(read_document_references(str(path)))
    assert len(records) == len(lines)
    assert [r.record_number for r in records] == list(range(1, len(lines) + 1))
    assert all((r.fields is None) == (r.error is not None) for r in records)
    assert detail_leaks(records) == []


hl7_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r\n\x0b\x1c\x00"
    ),
    max_size=40,
)


def hl7_message(text: str, mutation: int, number: int) -> str:
    msh = f"MSH|^~\\&|A|B|C|D|20240101||MDM^T02|{number}|P|2.5"
    segments = [
        msh,
        f"PID|1||{MARKER}^^^H^MR",
        "TXA|1|PN|TX|20240101||||||||" + MARKER,
        f"OBX|1|TX|||{MARKER} {text}",
    ]
    if mutation == 1:
        segments[0] = f"MSH|{text}"  # a bad MSH
    elif mutation == 2:
        segments = [s for s in segments if not s.startswith("OBX")]  # no OBX text
    elif mutation == 3:
        segments[-1] += "\\Z" + MARKER + "\\ \\X1\\ \\"  # unknown and broken escapes
    elif mutation == 4:
        segments[0] = msh.replace("MDM^T02", f"{MARKER}^{text[:3]}")
    elif mutation == 5:
        segments[0] = msh + "||||||" + MARKER  # an unknown MSH-18 charset
    return "\r".join(segments)


@FUZZ
@given(st.lists(st.tuples(hl7_text, st.integers(0, 5)), min_size=1, max_size=6), st.booleans())
def test_hl7_reader(messages, mllp):
    built = [hl7_message(text, mutation, n) for n, (text, mutation) in enumerate(messages)]
    if mllp:
        data = b"".join(b"\x0b" + m.encode() + b"\x1c\r" for m in built)
    else:
        data = ("\r".join(built) + "\r").encode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feed.hl7"
        path.write_bytes(data)
        records = list(read_hl7v2(str(path)))
    assert len(records) == len(messages)
    assert all((r.fields is None) == (r.error is not None) for r in records)
    assert detail_leaks(records) == []


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(-(2**40), 2**40).map(str), words, st.just("")),
            st.one_of(st.integers(0, 10**6).map(str), words),
            words,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_omop_reader(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "note.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["note_id", "person_id", "note_text"])
            for note_id, person_id, text in rows:
                writer.writerow(
                    [MARKER + note_id if note_id.isalpha() else note_id, person_id, MARKER + text]
                )
        records = list(read_records(str(path), "omop-note"))
    assert len(records) == len(rows)
    assert detail_leaks(records) == []
