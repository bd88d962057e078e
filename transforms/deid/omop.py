"""The OMOP CDM v5.4 copy of a released note: its NOTE row and its NOTE_NLP rows.

Pure functions of what the run releases anyway (the notes row, the entity rows):
no original text, no original identifier. OMOP wants integer ids, so note ids
and the patient and visit pseudonyms become keyed 63-bit integers
(``keyed_int``); the run checks the written ids for collisions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from transforms.core.keyed import keyed_int

# OMOP standard concepts written where deidcode knows the value.
UTF8_ENCODING_CONCEPT = 32678
NO_MATCHING_CONCEPT = 0
# Characters of text_deid on each side of a term in NOTE_NLP.snippet.
SNIPPET_CONTEXT = 60


@dataclass(frozen=True)
class OmopSettings:
    """What the OMOP mapping needs: the id key and the NOTE_NLP date."""

    id_key: bytes
    nlp_date: dt.date
    id_bits: int = 63

    def id(self, kind: str, value: str) -> int:
        return keyed_int(self.id_key, kind, value, bits=self.id_bits)


# The v5.4 DDL's varchar widths: longer values are cut to fit.
_WIDTHS = {"note_title": 250, "note_source_value": 50, "snippet": 250, "lexical_variant": 250}


def _fit(column: str, value: str | None) -> str | None:
    return None if value is None else value[: _WIDTHS[column]]


def omop_note_id(note_id: str, settings: OmopSettings) -> int:
    """A keyed integer, even where the export's note_id is one already: that is the
    hospital's record number, which a release must not carry (``pipeline.release``)."""
    return settings.id("note", note_id)


def _concept(value: Any) -> int:
    """A concept id from a released column: its integer, else 0 (no matching concept)."""
    if value is None:
        return NO_MATCHING_CONCEPT
    text = str(value).strip()
    if text.isascii() and text.lstrip("-").isdigit() and abs(int(text)) < 2**31:
        return int(text)
    return NO_MATCHING_CONCEPT


def omop_note_row(note_row: dict[str, Any], settings: OmopSettings) -> dict[str, Any]:
    """NOTE from a released notes row. Concept columns come from released columns of
    the same name (an OMOP input's ``note_type_concept_id: keep``), else 0."""
    encounter = note_row.get("encounter_id")
    return {
        "note_id": omop_note_id(note_row["note_id"], settings),
        "person_id": settings.id("person", note_row["patient_id"]),
        "note_date": note_row.get("note_date"),
        "note_datetime": None,  # a time of day would outlive Safe Harbor's date rules
        "note_type_concept_id": _concept(note_row.get("note_type_concept_id")),
        # An OMOP input's note_class_concept_id is read as deidcode's note_type.
        "note_class_concept_id": _concept(
            note_row.get("note_class_concept_id", note_row.get("note_type"))
        ),
        "note_title": _fit("note_title", note_row.get("note_title")),
        "note_text": note_row["text_deid"],
        "encoding_concept_id": UTF8_ENCODING_CONCEPT,
        "language_concept_id": _concept(note_row.get("language_concept_id")),
        "provider_id": None,
        "visit_occurrence_id": settings.id("visit", encounter) if encounter else None,
        "visit_detail_id": None,
        # An OMOP input's own source value where the config releases it.
        "note_source_value": _fit(
            "note_source_value", note_row.get("note_source_value", note_row.get("note_type"))
        ),
        "note_event_id": None,
        "note_event_field_concept_id": None,
    }


def term_modifiers(entity: dict[str, Any]) -> str:
    flags = ("negated", "historical", "hypothetical", "family", "uncertain")
    return ",".join(f"{flag}={str(bool(entity[flag])).lower()}" for flag in flags) + (
        f",label={entity['label']}"
    )


def note_nlp_rows(
    note_row: dict[str, Any], entity_rows: list[dict[str, Any]], settings: OmopSettings
) -> list[dict[str, Any]]:
    """NOTE_NLP, one row per entity with a surface in text_deid. An entity wholly
    inside a redacted span has none (its words are PHI) and gets no row."""
    text = note_row["text_deid"]
    note_id = omop_note_id(note_row["note_id"], settings)
    rows = []
    for entity in entity_rows:
        start, end = entity.get("start_deid"), entity.get("end_deid")
        if start is None or end is None or not entity.get("text_deid"):
            continue
        rows.append(
            {
                "note_nlp_id": settings.id("note_nlp", entity["entity_id"]),
                "note_id": note_id,
                "section_concept_id": None,
                "snippet": _fit(
                    "snippet", text[max(0, start - SNIPPET_CONTEXT) : end + SNIPPET_CONTEXT]
                ),
                "offset": str(start),
                "lexical_variant": _fit("lexical_variant", entity["text_deid"]),
                "note_nlp_concept_id": NO_MATCHING_CONCEPT,
                "note_nlp_source_concept_id": NO_MATCHING_CONCEPT,
                "nlp_system": f"deidcode/{entity['model']}",
                "nlp_date": settings.nlp_date,
                "nlp_datetime": None,
                "term_exists": "N" if entity["negated"] or entity["hypothetical"] else "Y",
                "term_temporal": "past" if entity["historical"] else "present",
                "term_modifiers": term_modifiers(entity),
            }
        )
    return rows
