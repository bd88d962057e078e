"""Generate the EHR-format samples under examples/ehr/ from the synthetic notes in
examples/sample_notes.csv and the HCC sample members and diagnoses.

- fhir/: a FHIR R4 Bulk Data export with its manifest.json: DocumentReference
  (plain text, HTML and RTF attachments, inline or in a Binary), Binary,
  Patient and Condition (ICD-10-CM) NDJSON;
- hl7/notes_batch.hl7: an FHS/BHS batch of MDM^T02 messages;
  hl7/notes.mllp: an MLLP-framed dump of ORU^R01 messages;
- omop/note.csv: an OMOP CDM v5.4 NOTE table.

A few records are deliberately bad, so a run shows quarantine at work: a
DocumentReference without an attachment, one whose Binary is missing, an ADT
message in the HL7 feed, and an OMOP row without text. All content is synthetic.

Run: python examples/ehr/generate_ehr_samples.py  (deterministic; rewrites the files)
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

HERE = Path(__file__).parent
EXAMPLES = HERE.parent
EXPORT_TIME = "2026-11-30T02:00:00Z"
LOINC_TYPES = {
    "discharge_summary": ("18842-5", "Discharge summary"),
    "progress_note": ("11506-3", "Progress note"),
    "consult_note": ("11488-4", "Consult note"),
    "radiology_report": ("18748-4", "Diagnostic imaging study"),
    "nursing_note": ("34746-8", "Nurse note"),
}
# OMOP note_class_concept_id of each note type (LOINC document ontology concepts).
OMOP_CLASSES = {
    "discharge_summary": 44814637,
    "progress_note": 44814640,
    "consult_note": 44814639,
    "radiology_report": 44814641,
    "nursing_note": 44814645,
}


def sample_notes() -> list[dict[str, str]]:
    with (EXAMPLES / "sample_notes.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{_escape_html(line)}</p>" for line in text.split("\n") if line)
    return f"<html><head><style>p {{margin: 0}}</style></head><body>{paragraphs}</body></html>"


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rtf(text: str) -> str:
    def escape(char: str) -> str:
        if char in "\\{}":
            return "\\" + char
        if ord(char) > 127:
            return f"\\'{ord(char.encode('latin-1', 'replace')):02x}"
        return char

    body = "\\par\n".join("".join(escape(c) for c in line) for line in text.split("\n"))
    return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0 " + body + "}"


def fhir_export(notes: list[dict[str, str]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    documents, binaries = [], []
    for number, note in enumerate(notes):
        code, display = LOINC_TYPES.get(note["note_type"], ("34109-9", "Note"))
        document = {
            "resourceType": "DocumentReference",
            "id": note["note_id"],
            "status": "current",
            "docStatus": "final",
            "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{note['patient_id']}"},
            "date": f"{note['note_date']}T09:30:00-05:00",
            "context": {"encounter": [{"reference": f"Encounter/{note['encounter_id']}"}]},
        }
        text = note["text"]
        if number % 10 == 3:  # HTML rendition
            attachment = {"contentType": "text/html; charset=utf-8", "data": _b64(_html(text))}
        elif number % 10 == 6:  # RTF rendition
            attachment = {"contentType": "text/rtf", "data": _b64(_rtf(text), "latin-1")}
        elif number % 10 == 8:  # the text in a Binary of the export
            binaries.append(
                {
                    "resourceType": "Binary",
                    "id": f"bin-{note['note_id']}",
                    "contentType": "text/plain; charset=utf-8",
                    "data": _b64(text),
                }
            )
            attachment = {"contentType": "text/plain", "url": f"Binary/bin-{note['note_id']}"}
        else:
            attachment = {"contentType": "text/plain; charset=utf-8", "data": _b64(text)}
        document["content"] = [{"attachment": attachment}]
        documents.append(document)
    # Deliberately bad: no attachment, and a Binary that is not in the export.
    documents[-2]["content"] = [{"attachment": {"contentType": "text/plain"}}]
    documents[-1]["content"] = [{"attachment": {"contentType": "text/plain", "url": "Binary/gone"}}]
    files = {
        "DocumentReference.ndjson": documents,
        "Binary.ndjson": binaries,
        "Patient.ndjson": patients(),
        "Condition.ndjson": conditions(),
        "Encounter.ndjson": encounters(),
    }
    for name, resources in files.items():
        with (out / name).open("w", encoding="utf-8") as handle:
            for resource in resources:
                handle.write(json.dumps(resource, sort_keys=True) + "\n")
    manifest = {
        "transactionTime": EXPORT_TIME,
        "request": "https://ehr.example.org/fhir/$export?_type=DocumentReference,Binary,"
        "Patient,Condition",
        "requiresAccessToken": True,
        "output": [
            {"type": name.split(".")[0], "url": f"https://ehr.example.org/bulk/{name}"}
            for name in files
        ],
        "error": [],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def patients() -> list[dict]:
    with (EXAMPLES / "hcc_members.csv").open(encoding="utf-8", newline="") as handle:
        members = list(csv.DictReader(handle))
    gender = {"F": "female", "M": "male"}
    return [
        {
            "resourceType": "Patient",
            "id": member["member_id"],
            "birthDate": member["birth_date"],
            "gender": gender.get(member["sex"], "unknown"),
        }
        for member in members
        if member["birth_date"] and member["sex"] in gender
    ]


# The HCC sample's encounter sources as FHIR Encounter class and type.
ENCOUNTER_KINDS = {
    "face_to_face": ("AMB", None),
    "video": ("VR", None),
    "audio_only": ("VR", "audio-only telephone visit"),
}


def hcc_diagnoses() -> list[dict[str, str]]:
    with (EXAMPLES / "hcc_diagnoses.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def encounters() -> list[dict]:
    seen, resources = set(), []
    for row in hcc_diagnoses():
        kind = ENCOUNTER_KINDS.get(row["source"])
        if not row["encounter_id"] or kind is None or row["encounter_id"] in seen:
            continue
        seen.add(row["encounter_id"])
        class_code, type_text = kind
        encounter = {
            "resourceType": "Encounter",
            "id": row["encounter_id"],
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": class_code,
            },
            "subject": {"reference": f"Patient/{row['member_id']}"},
            "period": {"start": row["date_of_service"]},
        }
        if type_text:
            encounter["type"] = [{"text": type_text}]
        resources.append(encounter)
    return resources


def conditions() -> list[dict]:
    diagnoses = hcc_diagnoses()
    resources = []
    for number, row in enumerate(diagnoses, start=1):
        if not row["code"] or not row["date_of_service"]:
            continue
        condition = {
            "resourceType": "Condition",
            "id": f"cond-{number:04d}",
            "subject": {"reference": f"Patient/{row['member_id']}"},
            "code": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": row["code"]}]
            },
            "recordedDate": row["date_of_service"],
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "encounter-diagnosis",
                        }
                    ]
                }
            ],
        }
        if row["encounter_id"] and row["source"] in ENCOUNTER_KINDS:
            condition["encounter"] = {"reference": f"Encounter/{row['encounter_id']}"}
        resources.append(condition)
    return resources


def _hl7_escape(text: str) -> str:
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )


def _hl7_date(iso_date: str) -> str:
    return iso_date.replace("-", "")


def mdm_message(note: dict[str, str], number: int) -> str:
    lines = note["text"].split("\n")
    segments = [
        f"MSH|^~\\&|EHR|HOSP|DEID|WAREHOUSE|{_hl7_date(note['note_date'])}0930||MDM^T02^MDM_T02|"
        f"MDM{number:05d}|P|2.5.1||||||UNICODE UTF-8",
        "EVN|T02|" + _hl7_date(note["note_date"]) + "0930",
        f"PID|1||{note['patient_id']}^^^HOSP^MR||{_hl7_escape(note['patient_name'])}",
        f"PV1|1|O|||||||||||||||||{note['encounter_id']}",
        f"TXA|1|{note['note_type']}|TX|{_hl7_date(note['note_date'])}0930||||||||"
        f"{note['note_id']}||||AU",
        # One OBX, each line of the note a repetition.
        "OBX|1|TX|11506-3^Progress note^LN||"
        + "~".join(_hl7_escape(line) for line in lines)
        + "||||||F",
    ]
    return "\r".join(segments) + "\r"


def oru_message(note: dict[str, str], number: int) -> str:
    segments = [
        f"MSH|^~\\&|RIS|HOSP|DEID|WAREHOUSE|{_hl7_date(note['note_date'])}1015||ORU^R01^ORU_R01|"
        f"ORU{number:05d}|P|2.5.1",
        f"PID|1||{note['patient_id']}^^^HOSP^MR||{_hl7_escape(note['patient_name'])}",
        f"PV1|1|O|||||||||||||||||{note['encounter_id']}",
        f"OBR|1||{note['note_id']}|{note['note_type']}|||{_hl7_date(note['note_date'])}1015",
    ]
    for index, line in enumerate(note["text"].split("\n"), start=1):
        segments.append(f"OBX|{index}|FT|||{_hl7_escape(line)}||||||F")
    return "\r".join(segments) + "\r"


def hl7_feeds(notes: list[dict[str, str]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    half = len(notes) // 2
    batch = ["FHS|^~\\&|EHR|HOSP\r", "BHS|^~\\&|EHR|HOSP\r"]
    batch += [mdm_message(note, n) for n, note in enumerate(notes[:half], start=1)]
    # Deliberately not a note: an admission message in the feed.
    batch.append("MSH|^~\\&|EHR|HOSP|DEID|WAREHOUSE|202301010800||ADT^A01|ADT00001|P|2.5.1\r")
    batch += [f"BTS|{half + 1}\r", "FTS|1\r"]
    (out / "notes_batch.hl7").write_bytes("".join(batch).encode("utf-8"))
    frames = [
        b"\x0b" + oru_message(note, n).encode("utf-8") + b"\x1c\r"
        for n, note in enumerate(notes[half:], start=1)
    ]
    (out / "notes.mllp").write_bytes(b"".join(frames))


OMOP_NOTE_COLUMNS = [
    "note_id",
    "person_id",
    "note_date",
    "note_datetime",
    "note_type_concept_id",
    "note_class_concept_id",
    "note_title",
    "note_text",
    "encoding_concept_id",
    "language_concept_id",
    "provider_id",
    "visit_occurrence_id",
    "visit_detail_id",
    "note_source_value",
    "note_event_id",
    "note_event_field_concept_id",
]


def omop_notes(notes: list[dict[str, str]]) -> list[dict[str, object]]:
    rows = []
    for number, note in enumerate(notes, start=1):
        rows.append(
            {
                "note_id": 1000 + number,
                "person_id": int(note["patient_id"].lstrip("P")),
                "note_date": note["note_date"],
                "note_datetime": f"{note['note_date']} 09:30:00",
                "note_type_concept_id": 32817,  # EHR
                "note_class_concept_id": OMOP_CLASSES.get(note["note_type"], 0),
                "note_title": note["note_type"].replace("_", " ").title(),
                "note_text": note["text"],
                "encoding_concept_id": 32678,  # UTF-8
                "language_concept_id": 4180186,  # English
                "provider_id": "",
                "visit_occurrence_id": int(note["encounter_id"].lstrip("E")),
                "visit_detail_id": "",
                "note_source_value": note["note_type"],
                "note_event_id": "",
                "note_event_field_concept_id": "",
            }
        )
    rows[-1]["note_text"] = ""  # deliberately bad: a NOTE row without text
    return rows


def omop_table(notes: list[dict[str, str]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "note.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=OMOP_NOTE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(omop_notes(notes))


def main() -> None:
    notes = sample_notes()
    fhir_export(notes, HERE / "fhir")
    hl7_feeds(notes, HERE / "hl7")
    omop_table(notes, HERE / "omop")


if __name__ == "__main__":
    main()
