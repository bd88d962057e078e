"""Step 7 inside the note step: code a note's entities, with evidence on both texts.

Coding reads the original text (where the entities were found); each evidence
span is then projected onto the redacted text like an entity, so the release
can carry positions and ``text_deid`` surfaces without any original PHI.
"""

from __future__ import annotations

from typing import Any

from transforms.coding.step import CodingStep
from transforms.core.entities import ClinicalEntity
from transforms.core.errors import NoteFailure
from transforms.entities.assertion import ContextAsserter
from transforms.entities.projection import entity_id, released_span
from transforms.redaction.engine import RedactionResult


def code_rows(
    note_id: str,
    text: str,
    entities: tuple[ClinicalEntity, ...],
    redaction: RedactionResult,
    step: CodingStep,
    asserter: ContextAsserter,
    *,
    id_key: bytes,
) -> list[dict[str, Any]]:
    """The note's ``codes/`` rows. Coder mentions (phrases the NER model missed) are
    asserted with the entity step's own rules first. Raises
    ``NoteFailure("coding_failed")``: fail closed."""
    try:
        suggester = step.suggester()
        suggestions = suggester.code_note(text, entities, asserter.assert_problems)
        rows = []
        for suggestion in suggestions:
            evidence = []
            for start, end in suggestion.evidence:
                start_deid, end_deid, text_deid = released_span(
                    start, end, redaction.text, redaction.offset_map
                )
                evidence.append(
                    {
                        "start": start,
                        "end": end,
                        "start_deid": start_deid,
                        "end_deid": end_deid,
                        "text_deid": text_deid,
                    }
                )
            rows.append(
                {
                    "note_id": note_id,
                    "code": suggestion.code,
                    "description": suggestion.description,
                    "rank": suggestion.rank,
                    "score": suggestion.score,
                    # A coder mention is no entity: its evidence spans stand alone.
                    "entity_id": (
                        entity_id(id_key, note_id, entities[suggestion.entity_index])
                        if suggestion.entity_index < len(entities)
                        else None
                    ),
                    "evidence": evidence,
                    "status": suggestion.status,
                    "coder_model": suggester.model_name,
                }
            )
        return rows
    except Exception as exc:  # noqa: BLE001 - only the type: a message may quote the text
        raise NoteFailure("coding_failed", type(exc).__name__) from None
