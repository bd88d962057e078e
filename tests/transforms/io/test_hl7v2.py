"""HL7 v2: message splitting (single, batch, MLLP), escapes, fields, refusals."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from transforms.io.hl7v2 import read_hl7v2

MSH = "MSH|^~\\&|EHR|HOSP|DEID|WH|20240305103000||{type}|{control}|P|2.5.1||||||{charset}"


def mdm(
    text_field: str = "Pt seen.", *, control: str = "C1", charset: str = "UNICODE UTF-8"
) -> str:
    return (
        "\r".join(
            [
                MSH.format(type="MDM^T02^MDM_T02", control=control, charset=charset),
                "PID|1||999-99-9999^^^SSA^SS~12345^^^HOSP&1.2.3&ISO^MR||DOE^JANE",
                "PV1|1|I|||||||||||||||||V789",
                "TXA|1|PN|TX|20240305093000||||||||DOC-" + control + "||||||AU",
                "OBX|1|TX|11506-3^Progress note^LN||" + text_field + "||||||F",
            ]
        )
        + "\r"
    )


def oru(*lines: str, control: str = "R1") -> str:
    segments = [
        MSH.format(type="ORU^R01^ORU_R01", control=control, charset=""),
        "PID|1||777^^^HOSP^MR",
        "OBR|1||RAD-" + control + "|71046^XR chest|||20230102081500",
    ]
    segments += [f"OBX|{i}|FT|||{line}||||||F" for i, line in enumerate(lines, start=1)]
    segments.append("OBX|9|NM|8867-4^Heart rate^LN||72|/min")  # a number, not note text
    return "\r".join(segments) + "\r"


def read(tmp_path: Path, data: bytes | str, name: str = "feed.hl7"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return list(read_hl7v2(str(path)))


def test_an_mdm_message_gives_the_note_and_its_context(tmp_path):
    (record,) = read(tmp_path, mdm())
    assert record.fields["note_id"] == "DOC-C1"  # TXA-12, the unique document number
    assert record.fields["patient_id"] == "HOSP|12345"  # the MR identifier, with its authority
    assert record.fields["encounter_id"] == "V789"  # PV1-19
    assert record.fields["note_type"] == "PN"  # TXA-2
    assert record.fields["note_date"] == dt.date(2024, 3, 5)  # TXA-4
    assert record.fields["text"] == "Pt seen."


def test_escape_sequences_and_repetitions_are_decoded(tmp_path):
    field = (
        "BP 120/80 \\T\\ HR 72\\.br\\Plan\\F\\next \\S\\ step~second line \\E\\ done"
        " \\X41\\ \\H\\bold\\N\\"
    )
    (record,) = read(tmp_path, mdm(field))
    assert record.fields["text"] == (
        "BP 120/80 & HR 72\nPlan|next ^ step\nsecond line \\ done A bold"
    )


def test_the_encoding_characters_come_from_msh2(tmp_path):
    message = mdm("a #F# b").replace("|^~\\&|", "|^~#&|", 1)
    (record,) = read(tmp_path, message)
    assert record.fields["text"] == "a | b"


def test_the_character_set_comes_from_msh18(tmp_path):
    data = mdm("Café", charset="8859/1").encode("latin-1")
    (record,) = read(tmp_path, data)
    assert record.fields["text"] == "Café"


def test_an_oru_report_is_its_text_observations_in_order(tmp_path):
    (record,) = read(tmp_path, oru("FINDINGS: clear lungs.", "IMPRESSION: normal."))
    assert record.fields["text"] == "FINDINGS: clear lungs.\nIMPRESSION: normal."
    assert record.fields["note_id"] == "RAD-R1"  # OBR-3 without a TXA
    assert record.fields["note_type"] == "71046"
    assert record.fields["note_date"] == dt.date(2023, 1, 2)
    assert record.fields["patient_id"] == "HOSP|777"


def test_a_batch_file_is_split_at_each_message(tmp_path):
    batch = (
        "FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r" + mdm(control="A") + mdm(control="B") + "BTS|2\rFTS|1\r"
    )
    records = read(tmp_path, batch.replace("\r", "\r\n"))  # CRLF files are common
    assert [(r.record_number, r.fields["note_id"]) for r in records] == [
        (1, "DOC-A"),
        (2, "DOC-B"),
    ]


def test_an_mllp_dump_is_split_at_each_frame(tmp_path):
    frames = b"".join(b"\x0b" + m.encode() + b"\x1c\r" for m in (mdm(control="A"), oru()))
    records = read(tmp_path, frames, "dump.mllp")
    assert [r.fields["note_id"] for r in records] == ["DOC-A", "RAD-R1"]


def test_messages_that_hold_no_note_are_refused_with_a_reason(tmp_path):
    admit = MSH.format(type="ADT^A01", control="X", charset="") + "\rPID|1||5\r"
    frames = b"".join(
        b"\x0b" + m + b"\x1c\r"
        for m in (admit.encode(), b"garbage", mdm(charset="EBCDIC").encode())
    )
    records = read(tmp_path, frames)
    assert [r.error for r in records] == [
        "unsupported_message_type",
        "invalid_hl7",
        "invalid_hl7",
    ]
    assert all(r.fields is None for r in records)


def test_invalid_utf8_is_refused(tmp_path):
    (record,) = read(tmp_path, mdm("x").encode() + b"\xff")
    assert record.error == "invalid_utf8"


def test_a_bad_escape_sequence_logs_nothing_of_the_note(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    (record,) = read(tmp_path, mdm("Jane Roe \\\\ \\Cxxyy\\ seen"))
    assert record.fields is not None
    assert "Roe" not in caplog.text


@pytest.mark.parametrize("name", ["notes_batch.hl7", "notes.mllp"])
def test_the_bundled_feeds_read_completely(name):
    records = list(read_hl7v2(str(REPO_ROOT / "examples" / "ehr" / "hl7" / name)))
    assert len(records) >= 25
    assert sum(r.fields is not None and bool(r.fields["text"]) for r in records) >= 24
