"""FHIR Bulk Data for CMS-HCC scoring (``deidcode hcc score --format fhir-ndjson``):
members from Patient, diagnoses from Condition with their Encounter's kind."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from transforms.core.records import RawRecord
from transforms.io.fhir import (
    ICD10CM_SYSTEMS,
    coding_code,
    reference_id,
    valid_resources,
)
from transforms.io.jsonl import read_jsonl

_GENDER = {"female": "F", "male": "M"}
# Encounter.class codes (HL7 v3 ActEncounterCode) of in-person encounters.
_IN_PERSON = {"AMB", "IMP", "EMER", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "HH", "FLD"}
_VIRTUAL = {"VR"}
# A Condition that is not (or no longer) a diagnosis of the patient.
_NOT_A_DIAGNOSIS = {"refuted", "entered-in-error"}


def patient_fields(patient: dict[str, Any]) -> dict[str, Any]:
    """A Patient as a member row: birth date and sex (the other member fields
    take their defaults: community, non-dual, not institutional)."""
    return {
        "member_id": patient.get("id"),
        "birth_date": patient.get("birthDate"),
        "sex": _GENDER.get(str(patient.get("gender") or ""), ""),
    }


def encounter_source(encounter: dict[str, Any]) -> str:
    """The scorer's source kind of an Encounter: by its class, with audio-only
    visits told apart by a type that says so."""
    kind = encounter.get("class") or {}
    code = str(kind.get("code") or "").upper() if isinstance(kind, dict) else ""
    types = json.dumps(encounter.get("type") or []).lower()
    if "audio" in types or "telephone" in types:
        return "audio_only"
    if code in _VIRTUAL:
        return "video"
    if code in _IN_PERSON:
        return "face_to_face"
    return "unknown"


@dataclass
class EncounterIndex:
    """Each Encounter's source kind and start date, by id, read on first use."""

    files: Sequence[str]
    _by_id: dict[str, tuple[str, str | None]] | None = None

    def get(self, encounter_id: str) -> tuple[str, str | None] | None:
        if self._by_id is None:
            self._by_id = {}
            for path in self.files:
                for line in read_jsonl(path):
                    resource = line.fields
                    if resource is None or resource.get("resourceType") != "Encounter":
                        continue
                    period = resource.get("period") or {}
                    start = str(period["start"])[:10] if period.get("start") else None
                    self._by_id.setdefault(
                        str(resource.get("id")), (encounter_source(resource), start)
                    )
        return self._by_id.get(encounter_id)


class ConditionError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def condition_fields(condition: dict[str, Any], encounters: EncounterIndex) -> dict[str, Any]:
    """A Condition as a diagnosis row. The date of service is the encounter's start,
    else the Condition's recordedDate or onset; the source is the encounter's kind,
    and a Condition with no encounter counts as an unlinked chart review."""
    status = coding_code(
        condition.get("verificationStatus"),
        ("http://terminology.hl7.org/CodeSystem/condition-ver-status",),
    )
    if status in _NOT_A_DIAGNOSIS:
        raise ConditionError("not_a_diagnosis", f"verificationStatus is {status}")
    code = coding_code(condition.get("code"), ICD10CM_SYSTEMS)
    if code is None:
        raise ConditionError("invalid_icd10", "the Condition has no ICD-10-CM coding")
    encounter_id = reference_id(condition.get("encounter"), "Encounter")
    source, started = ("chart_review", None)
    if encounter_id is not None:
        found = encounters.get(encounter_id)
        source, started = found if found is not None else ("unknown", None)
    onset = condition.get("onsetDateTime")
    recorded = condition.get("recordedDate")
    service = (
        started
        or (str(recorded)[:10] if recorded else None)
        or (str(onset)[:10] if onset else None)
    )
    return {
        "member_id": reference_id(condition.get("subject"), "Patient"),
        "code": code,
        "date_of_service": service,
        "encounter_id": encounter_id,
        "source": source,
    }


def read_patients(path: str) -> Iterator[RawRecord]:
    for record in valid_resources(path, "Patient"):
        if record.fields is None:
            yield record
            continue
        yield RawRecord(path, record.record_number, patient_fields(record.fields))


def read_conditions(path: str, *, encounter_files: Sequence[str] = ()) -> Iterator[RawRecord]:
    encounters = EncounterIndex(encounter_files)
    for record in valid_resources(path, "Condition"):
        if record.fields is None:
            yield record
            continue
        try:
            fields = condition_fields(record.fields, encounters)
        except ConditionError as exc:
            yield RawRecord(path, record.record_number, None, exc.reason, exc.detail)
            continue
        yield RawRecord(path, record.record_number, fields)
