"""FHIR Bulk Data: DocumentReference notes, attachments, the manifest, Patient and Condition."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from transforms.io.fhir import BinaryIndex, read_document_references, scan_export
from transforms.io.fhir_hcc import EncounterIndex, read_conditions, read_patients
from transforms.io.readers import InputError, select_inputs

SAMPLE_EXPORT = REPO_ROOT / "examples" / "ehr" / "fhir"


def document(**overrides) -> dict:
    resource = {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "status": "current",
        "subject": {"reference": "Patient/p-7"},
        "date": "2024-03-05T23:30:00-05:00",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
        "context": {"encounter": [{"reference": "Encounter/e-9"}]},
        "content": [{"attachment": {"contentType": "text/plain", "data": b64("Pt seen.")}}],
    }
    resource.update(overrides)
    return resource


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode()


def attached(content_type: str, data: str | None = None, url: str | None = None) -> list:
    attachment = {"contentType": content_type}
    if data is not None:
        attachment["data"] = data
    if url is not None:
        attachment["url"] = url
    return [{"attachment": attachment}]


def write_ndjson(path: Path, resources: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def read_one(tmp_path: Path, resource: dict, binaries: list | None = None):
    docs = write_ndjson(tmp_path / "DocumentReference.ndjson", [resource])
    binary_files = [str(write_ndjson(tmp_path / "Binary.ndjson", binaries))] if binaries else []
    (record,) = read_document_references(str(docs), binary_files=binary_files)
    return record


def test_a_document_reference_gives_the_note_and_its_context(tmp_path):
    record = read_one(tmp_path, document())
    assert record.fields["note_id"] == "doc-1"
    assert record.fields["patient_id"] == "p-7"
    assert record.fields["encounter_id"] == "e-9"
    assert record.fields["note_type"] == "11506-3"  # the LOINC code
    # The date as written, not moved across midnight by a time zone conversion.
    assert record.fields["note_date"] == "2024-03-05"
    assert record.fields["text"] == "Pt seen."


def test_the_date_falls_back_to_the_context_period(tmp_path):
    resource = document(context={"period": {"start": "2023-01-02T08:00:00Z"}})
    del resource["date"]
    assert read_one(tmp_path, resource).fields["note_date"] == "2023-01-02"


def test_a_subject_given_by_identifier_keeps_its_system(tmp_path):
    subject = {"identifier": {"system": "urn:oid:1.2.3", "value": "MRN42"}}
    assert (
        read_one(tmp_path, document(subject=subject)).fields["patient_id"] == "urn:oid:1.2.3|MRN42"
    )


def test_the_charset_of_the_content_type_decodes_the_text(tmp_path):
    content = attached("text/plain; charset=ISO-8859-1", b64("Café au lait", "latin-1"))
    assert read_one(tmp_path, document(content=content)).fields["text"] == "Café au lait"


def test_html_becomes_its_visible_text(tmp_path):
    html = (
        "<html><head><title>t</title><script>var x = 1;</script></head><body>"
        "<h1>Progress note</h1><p>Pt seen &amp; <b>examined</b>.</p><div>BP 120/80<br>HR 72</div>"
        "</body></html>"
    )
    content = attached("text/html; charset=utf-8", b64(html))
    text = read_one(tmp_path, document(content=content)).fields["text"]
    assert text == "Progress note\nPt seen & examined.\nBP 120/80\nHR 72"


def test_rtf_becomes_its_text(tmp_path):
    rtf = (
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Arial;}\f0 Patient has \b chest pain\b0 .\par Caf\'e9\par}"
    )
    content = attached("text/rtf", b64(rtf, "latin-1"))
    assert read_one(tmp_path, document(content=content)).fields["text"] == (
        "Patient has chest pain.\nCafé"
    )


def test_plain_text_is_preferred_among_renditions(tmp_path):
    content = attached("text/html", b64("<p>html copy</p>")) + attached(
        "text/plain", b64("plain copy")
    )
    assert read_one(tmp_path, document(content=content)).fields["text"] == "plain copy"


def test_an_attachment_url_reads_the_binary_of_the_export(tmp_path):
    binary = {"resourceType": "Binary", "id": "b1", "contentType": "text/plain", "data": b64("x y")}
    other = {"resourceType": "Binary", "id": "b0", "contentType": "text/plain", "data": b64("no")}
    resource = document(content=attached("text/plain", url="Binary/b1"))
    assert read_one(tmp_path, resource, binaries=[other, binary]).fields["text"] == "x y"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (attached("text/plain", url="Binary/missing"), "unresolvable_attachment"),
        # Never fetched: deidcode runs offline, and another server's file is not the export's.
        (
            attached("text/plain", url="https://other.example.org/doc.txt"),
            "unresolvable_attachment",
        ),
        (attached("text/plain"), "no_text_attachment"),
        ([], "no_text_attachment"),
        (attached("application/pdf", b64("%PDF-1.4")), "unsupported_content_type"),
        # The R4B model checks base64Binary itself.
        (attached("text/plain", "not base64!"), "invalid_fhir_resource"),
        (attached("text/plain; charset=klingon", b64("x")), "invalid_attachment"),
        (
            attached("text/plain", base64.b64encode(b"\xff\xfe bad").decode()),
            "invalid_utf8",
        ),
    ],
)
def test_a_document_without_usable_text_is_refused_with_a_reason(tmp_path, content, reason):
    record = read_one(tmp_path, document(content=content))
    assert record.fields is None
    assert record.error == reason
    assert record.note_id == "doc-1"  # the quarantine row still names the document


def test_an_invalid_resource_is_refused_without_quoting_its_values(tmp_path):
    record = read_one(tmp_path, document(date="Jane Roe was seen"))
    assert record.error == "invalid_fhir_resource"
    assert "date" in record.detail
    assert "Roe" not in record.detail


def test_broken_lines_are_records_of_their_own(tmp_path):
    path = tmp_path / "DocumentReference.ndjson"
    path.write_text(json.dumps(document()) + "\n{not json\n\n[1, 2]\n", encoding="utf-8")
    records = list(read_document_references(str(path)))
    assert [(r.record_number, r.error) for r in records] == [
        (1, None),
        (2, "malformed_json"),
        (3, "malformed_json"),
    ]


def test_the_bulk_manifest_names_the_files_by_type():
    export = scan_export([str(SAMPLE_EXPORT)])
    assert set(export.files_by_type) == {
        "Binary",
        "Condition",
        "DocumentReference",
        "Encounter",
        "Patient",
    }
    selection = select_inputs(str(SAMPLE_EXPORT), "fhir-ndjson")
    assert [Path(p).name for p in selection.files] == ["DocumentReference.ndjson"]
    assert [Path(p).name for p in selection.binary_files] == ["Binary.ndjson"]
    assert sorted(s["reason"] for s in selection.skipped) == [
        "resource_type:Condition",
        "resource_type:Patient",
    ]


def test_without_a_manifest_files_are_typed_by_their_resources(tmp_path):
    write_ndjson(tmp_path / "notes-1.ndjson", [document()])
    write_ndjson(tmp_path / "people.ndjson", [{"resourceType": "Patient", "id": "p"}])
    selection = select_inputs(str(tmp_path), "fhir-ndjson")
    assert [Path(p).name for p in selection.files] == ["notes-1.ndjson"]


def test_a_manifest_naming_a_missing_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps({"output": [{"type": "DocumentReference", "url": "https://x/y/DR.ndjson"}]})
    )
    with pytest.raises(InputError, match=r"DR\.ndjson"):
        select_inputs(str(tmp_path), "fhir-ndjson")


def test_an_export_without_documents_is_an_error(tmp_path):
    write_ndjson(tmp_path / "people.ndjson", [{"resourceType": "Patient", "id": "p"}])
    with pytest.raises(InputError, match="no DocumentReference"):
        select_inputs(str(tmp_path), "fhir-ndjson")


def test_the_binary_index_reads_no_file_until_asked(tmp_path):
    index = BinaryIndex([str(tmp_path / "does-not-exist.ndjson")])
    assert index._offsets is None  # built lazily: a run without url attachments reads none


def test_patients_give_members_birth_date_and_sex(tmp_path):
    path = write_ndjson(
        tmp_path / "Patient.ndjson",
        [
            {"resourceType": "Patient", "id": "m1", "birthDate": "1950-02-03", "gender": "female"},
            {"resourceType": "Patient", "id": "m2", "birthDate": "not-a-date"},
        ],
    )
    first, second = read_patients(str(path))
    assert first.fields == {"member_id": "m1", "birth_date": "1950-02-03", "sex": "F"}
    assert second.error == "invalid_fhir_resource"  # hcc score quarantines it as unreadable


def condition(**overrides) -> dict:
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/m1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.22"}]},
        "encounter": {"reference": "Encounter/v1"},
        "recordedDate": "2025-04-09",
    }
    resource.update(overrides)
    return resource


def encounter(encounter_id: str, code: str, *, audio: bool = False) -> dict:
    resource = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code},
        "period": {"start": "2025-04-01T10:00:00Z"},
    }
    if audio:
        resource["type"] = [{"text": "Audio-only telephone visit"}]
    return resource


@pytest.mark.parametrize(
    ("kind", "audio", "source"),
    [("AMB", False, "face_to_face"), ("VR", False, "video"), ("VR", True, "audio_only")],
)
def test_a_condition_takes_its_encounters_kind_and_date(tmp_path, kind, audio, source):
    encounters = write_ndjson(tmp_path / "Encounter.ndjson", [encounter("v1", kind, audio=audio)])
    conditions = write_ndjson(tmp_path / "Condition.ndjson", [condition()])
    (record,) = read_conditions(str(conditions), encounter_files=[str(encounters)])
    assert record.fields == {
        "member_id": "m1",
        "code": "E11.22",
        "date_of_service": "2025-04-01",
        "encounter_id": "v1",
        "source": source,
    }


def test_a_condition_without_an_encounter_is_an_unlinked_chart_review(tmp_path):
    resource = condition()
    del resource["encounter"]
    path = write_ndjson(tmp_path / "Condition.ndjson", [resource])
    (record,) = read_conditions(str(path))
    assert record.fields["source"] == "chart_review"
    assert record.fields["date_of_service"] == "2025-04-09"


def test_refuted_and_uncoded_conditions_are_refused(tmp_path):
    refuted = condition(
        verificationStatus={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "refuted",
                }
            ]
        }
    )
    snomed = condition(code={"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]})
    path = write_ndjson(tmp_path / "Condition.ndjson", [refuted, snomed])
    assert [r.error for r in read_conditions(str(path))] == ["not_a_diagnosis", "invalid_icd10"]


def test_the_encounter_index_maps_unknown_classes_to_unknown(tmp_path):
    path = write_ndjson(tmp_path / "Encounter.ndjson", [encounter("v2", "XYZ")])
    assert EncounterIndex([str(path)]).get("v2") == ("unknown", "2025-04-01")
