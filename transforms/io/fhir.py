"""FHIR R4 Bulk Data exports: notes from DocumentReference, members and diagnoses
from Patient and Condition.

An export is NDJSON, one resource a line and one resource type per file, as a
directory (with or without the bulk ``manifest.json``) or as single files. Each
DocumentReference line is one record; its text comes from the first usable
``content[].attachment``: inline base64 ``data`` or a ``url`` naming a Binary
resource of the same export. Nothing is ever fetched over the network.

Every resource is validated against the ``fhir.resources`` R4B models. Error
details name fields and FHIR error types only, never values: a validation
message could otherwise quote a note.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from pydantic import ValidationError

from transforms.core.records import RawRecord
from transforms.io import files
from transforms.io.attachments import AttachmentError, attachment_text
from transforms.io.jsonl import read_jsonl

LOINC = "http://loinc.org"
ICD10CM_SYSTEMS = (
    "http://hl7.org/fhir/sid/icd-10-cm",
    "urn:oid:2.16.840.1.113883.6.90",
)
# The resource types a note run reads; the rest of an export (Patient, Condition,
# Observation, ...) is listed as skipped.
NOTE_TYPES = ("DocumentReference",)
# How far down an NDJSON file to look for its resource type when there is no manifest.
_TYPE_PROBE_LINES = 20


class FhirExportError(ValueError):
    """The export cannot be used at all; the message names the file."""


@dataclass(frozen=True)
class FhirExport:
    """The NDJSON files of one export, by resource type, each list sorted."""

    files_by_type: dict[str, list[str]] = field(default_factory=dict)

    def files(self, resource_type: str) -> list[str]:
        return self.files_by_type.get(resource_type, [])


def scan_export(paths: Sequence[str]) -> FhirExport:
    """Group an export's files by resource type: from ``manifest.json`` where a
    directory has one, else from the resources each file holds."""
    by_type: dict[str, list[str]] = {}
    for path in paths:
        for resource_type, file_path in _typed_files(path):
            by_type.setdefault(resource_type, []).append(file_path)
    return FhirExport({t: sorted(set(files)) for t, files in sorted(by_type.items())})


def _typed_files(path: str) -> Iterator[tuple[str, str]]:
    if not files.has_magic(path) and files.is_dir(path):
        manifest = files.join(path, "manifest.json")
        if files.exists(manifest):
            yield from _manifest_files(manifest)
            return
        for name, file_path, is_file in files.directory_entries(path):
            if name.startswith(".") or not is_file:
                continue
            if not name.lower().endswith((".ndjson", ".jsonl")):
                continue
            resource_type = probe_resource_type(file_path)
            if resource_type is not None:
                yield resource_type, file_path
        return
    if files.basename(path) == "manifest.json":
        yield from _manifest_files(path)
        return
    resource_type = probe_resource_type(path)
    if resource_type is not None:
        yield resource_type, files.absolute(path)


def _manifest_files(manifest: str) -> Iterator[tuple[str, str]]:
    """A bulk manifest names each output by URL; the files lie beside it under the
    URL's last path segment (how a downloaded export is laid out)."""
    try:
        document = json.loads(files.read_bytes(manifest).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FhirExportError(f"bulk manifest {manifest} is not readable JSON ({exc})") from None
    outputs = document.get("output") if isinstance(document, dict) else None
    if not isinstance(outputs, list):
        raise FhirExportError(f"bulk manifest {manifest} has no 'output' list")
    folder = files.dirname(files.absolute(manifest))
    for number, entry in enumerate(outputs, start=1):
        if not isinstance(entry, dict) or not entry.get("type") or not entry.get("url"):
            raise FhirExportError(f"bulk manifest {manifest}: output {number} lacks type or url")
        name = str(entry["url"]).rstrip("/").rsplit("/", 1)[-1]
        file_path = files.join(folder, name)
        if not files.exists(file_path):
            raise FhirExportError(
                f"bulk manifest {manifest}: output {number} ({entry['type']}) names {name}, "
                f"which is not in {folder}"
            )
        yield str(entry["type"]), file_path


def probe_resource_type(path: str) -> str | None:
    """The resourceType of the first parseable line; None for an empty file."""
    try:
        with files.open_read(path) as handle:
            for number, line in enumerate(handle):
                if number >= _TYPE_PROBE_LINES:
                    break
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
                    return value["resourceType"]
    except OSError as exc:
        raise FhirExportError(f"input file {path} is not readable ({exc})") from None
    return None


def validation_detail(resource_type: str, exc: ValidationError) -> str:
    """The failing fields and error types of a FHIR validation, never the values."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:3]:
        parts = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "extra_forbidden" and parts:
            # The last part is the unknown element's name, which is input data.
            parts[-1] = "(an element R4B does not define)"
        where = ".".join(parts) or "(resource)"
        problems.append(f"{where}: {error.get('type', 'invalid')}")
    more = len(exc.errors()) - len(problems)
    suffix = f" and {more} more" if more > 0 else ""
    return f"{resource_type} fails the R4B model at " + "; ".join(problems) + suffix


def _model(resource_type: str):
    # Imported here: the R4B models take a second to load, and only FHIR runs need them.
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def validate_resource(resource: dict[str, Any], expected: str) -> str | None:
    """None if ``resource`` is a valid R4B ``expected``; else a value-free detail."""
    found = resource.get("resourceType")
    if found != expected:
        return f"expected resourceType {expected}, found {found!r}"[:120]
    try:
        _model(expected).model_validate(resource)
    except ValidationError as exc:
        return validation_detail(expected, exc)
    return None


def reference_id(reference: Any, resource_type: str) -> str | None:
    """``Patient/123`` → ``123``; a logical reference by identifier → ``system|value``."""
    if not isinstance(reference, dict):
        return None
    text = reference.get("reference")
    if isinstance(text, str) and text.strip():
        text = text.strip().split("/_history/")[0]
        prefix = resource_type + "/"
        if prefix in text:
            return text.rsplit(prefix, 1)[1] or None
        return text if "/" not in text else None
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        system = identifier.get("system") or ""
        return f"{system}|{identifier['value']}" if system else str(identifier["value"])
    return None


def coding_code(concept: Any, systems: Sequence[str]) -> str | None:
    """The code of the first coding in one of ``systems``."""
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") in systems and coding.get("code"):
            return str(coding["code"])
    return None


def note_type(concept: Any) -> str | None:
    """The LOINC document type code; else the concept's text or its first code."""
    code = coding_code(concept, (LOINC,))
    if code is not None:
        return code
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")]
    return str(codings[0]["code"]) if codings else None


def note_date(document: dict[str, Any]) -> str | None:
    """``date`` (when the reference was made), else the start of ``context.period``:
    the calendar date as written, without converting time zones."""
    value = document.get("date")
    if not value:
        period = (document.get("context") or {}).get("period") or {}
        value = period.get("start") or period.get("end")
    return str(value)[:10] if value else None


def charset(content_type: str | None) -> tuple[str, str]:
    """(media type, charset) of a contentType; UTF-8 where none is given."""
    message = Message()
    message["content-type"] = content_type or "text/plain"
    return message.get_content_type(), message.get_content_charset() or "utf-8"


@dataclass
class BinaryIndex:
    """Where each Binary resource of an export lies: (file, byte offset) by id.

    Built on first use by one pass over the export's Binary files, so a run that
    needs no Binary reads none."""

    files: Sequence[str]
    _offsets: dict[str, tuple[str, int]] | None = None

    def _build(self) -> dict[str, tuple[str, int]]:
        offsets: dict[str, tuple[str, int]] = {}
        for path in self.files:
            with files.open_read(path) as handle:
                offset = 0
                for raw in handle:
                    try:
                        value = json.loads(raw) if raw.strip() else None
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        value = None
                    if isinstance(value, dict) and value.get("resourceType") == "Binary":
                        offsets.setdefault(str(value.get("id")), (path, offset))
                    offset += len(raw)
        return offsets

    def get(self, binary_id: str) -> dict[str, Any] | None:
        if self._offsets is None:
            self._offsets = self._build()
        where = self._offsets.get(binary_id)
        if where is None:
            return None
        path, offset = where
        with files.open_read(path) as handle:
            handle.seek(offset)
            return json.loads(handle.readline())


# Attachments in order of preference when a document carries several renditions.
_PREFERENCE = ("text/plain", "text/html", "application/xhtml+xml", "text/rtf", "application/rtf")


def _attachments(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        c["attachment"]
        for c in document.get("content") or []
        if isinstance(c, dict) and isinstance(c.get("attachment"), dict)
    ]

    def rank(attachment: dict[str, Any]) -> int:
        media, _ = charset(attachment.get("contentType"))
        return _PREFERENCE.index(media) if media in _PREFERENCE else len(_PREFERENCE)

    return sorted(found, key=rank)


def document_text(document: dict[str, Any], binaries: BinaryIndex) -> str:
    """The note text of a DocumentReference; AttachmentError says why there is none."""
    attachments = _attachments(document)
    if not attachments:
        raise AttachmentError("no_text_attachment", "DocumentReference has no content.attachment")
    attachment = attachments[0]
    content_type = attachment.get("contentType")
    if attachment.get("data") is not None:
        payload = attachment["data"]
    elif attachment.get("url"):
        payload, content_type = _binary_payload(str(attachment["url"]), content_type, binaries)
    else:
        raise AttachmentError("no_text_attachment", "the attachment has neither data nor url")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise AttachmentError("invalid_attachment", "attachment data is not base64") from None
    media, encoding = charset(content_type)
    return attachment_text(data, media, encoding)


def _binary_payload(
    url: str, content_type: str | None, binaries: BinaryIndex
) -> tuple[str, str | None]:
    if "://" in url and "/Binary/" not in url:
        raise AttachmentError(
            "unresolvable_attachment", "the attachment url is not a Binary of this export"
        )
    binary_id = url.rstrip("/").split("/_history/")[0].rsplit("/", 1)[-1]
    if "Binary/" not in url:
        raise AttachmentError("unresolvable_attachment", "the attachment url names no Binary")
    binary = binaries.get(binary_id)
    if binary is None:
        raise AttachmentError(
            "unresolvable_attachment", f"Binary {binary_id[:64]} is not in this export"
        )
    problem = validate_resource(binary, "Binary")
    if problem is not None:
        raise AttachmentError("invalid_fhir_resource", problem)
    if binary.get("data") is None:
        raise AttachmentError("no_text_attachment", f"Binary {binary_id[:64]} has no data")
    return binary["data"], content_type or binary.get("contentType")


def document_fields(document: dict[str, Any], binaries: BinaryIndex) -> dict[str, Any]:
    """A DocumentReference as deidcode's record fields (see ``read_document_references``)."""
    context = document.get("context") or {}
    encounters = context.get("encounter") or []
    return {
        "note_id": document.get("id"),
        "patient_id": reference_id(document.get("subject"), "Patient"),
        "text": document_text(document, binaries),
        "note_date": note_date(document),
        "encounter_id": reference_id(encounters[0], "Encounter") if encounters else None,
        "note_type": note_type(document.get("type")),
        # Further structured fields a config may release under input.column_policies.
        "status": document.get("status"),
        "doc_status": document.get("docStatus"),
        "category": note_type((document.get("category") or [None])[0]),
    }


def valid_resources(path: str, resource_type: str) -> Iterator[RawRecord]:
    """Each line of an NDJSON file as a record: the resource as its fields where it is
    a valid R4B ``resource_type``, else the reason (``invalid_fhir_resource`` with a
    value-free detail, or the JSON reader's own)."""
    for line in read_jsonl(path):
        resource = line.fields
        if resource is None:
            yield line
            continue
        problem = validate_resource(resource, resource_type)
        if problem is not None:
            note_id = resource.get("id") if isinstance(resource.get("id"), str) else None
            yield RawRecord(
                path, line.record_number, None, "invalid_fhir_resource", problem, note_id
            )
            continue
        yield line


def read_document_references(path: str, *, binary_files: Sequence[str] = ()) -> Iterator[RawRecord]:
    """One record per DocumentReference line of ``path``, or the reason it has no note."""
    binaries = BinaryIndex(binary_files)
    for record in valid_resources(path, "DocumentReference"):
        if record.fields is None:
            yield record
            continue
        number, note_id = record.record_number, record.fields.get("id")
        try:
            fields = document_fields(record.fields, binaries)
        except AttachmentError as exc:
            yield RawRecord(path, number, None, exc.reason, exc.detail, note_id)
            continue
        except Exception as exc:  # noqa: BLE001 - a decoder on untrusted bytes: fail closed
            detail = f"attachment unreadable ({type(exc).__name__})"
            yield RawRecord(path, number, None, "invalid_attachment", detail, note_id)
            continue
        yield RawRecord(path, number, fields)
