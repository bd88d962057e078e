"""Entities found on the original text, projected onto the redacted text: checked with
hypothesis through every redaction operator."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.redaction.test_properties import context, names, phones, words
from transforms.core.entities import ClinicalEntity
from transforms.core.offsets import OffsetSegment, project_span
from transforms.core.spans import Span
from transforms.entities.projection import covered_by_redactions, entity_id, entity_rows
from transforms.redaction.engine import redact
from transforms.redaction.policy import RedactionPolicy

ID_KEY = b"i" * 32

FILLER = ["asthma", "with", "cough", "since", "and", "on", "metformin", "syndrome", "."]
dates = st.builds(
    lambda m, d, y: f"{m:02d}/{d:02d}/{y}",
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(1990, 2024),
)
phi_values = st.one_of(
    names.map(lambda v: (v, "NAME")),
    phones.map(lambda v: (v, "CONTACT")),
    dates.map(lambda v: (v, "DATE")),
)
OPERATORS = ["tag", "mask", "remove", "surrogate", "date_shift"]


def policy(operator: str) -> RedactionPolicy:
    if operator == "date_shift":  # dates shift; the other types keep a tag
        return RedactionPolicy.from_config({"type": "tag"}, {"DATE": {"type": "date_shift"}}, {})
    return RedactionPolicy.from_config({"type": operator}, {}, {})


def build(pieces):
    """Text, PHI spans, and each piece's (start, end, span or None)."""
    text, spans, places = "", [], []
    for piece in pieces:
        if text:
            text += " "
        value, span = (piece[0], None) if isinstance(piece, tuple) else (piece, None)
        if isinstance(piece, tuple):
            span = Span(len(text), len(text) + len(value), piece[1], piece[1], 1.0, "t")
            spans.append(span)
        places.append((len(text), len(text) + len(value), span))
        text += value
    return text, spans, places


def entity(start: int, end: int) -> ClinicalEntity:
    return ClinicalEntity(start, end, "PROBLEM", 0.9, "m:1")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(FILLER), phi_values), min_size=1, max_size=15),
    st.data(),
    st.sampled_from(OPERATORS),
)
def test_projection_through_every_operator(pieces, data, operator):
    text, spans, places = build(pieces)
    first = data.draw(st.integers(0, len(places) - 1))
    last = data.draw(st.integers(first, len(places) - 1))
    found = entity(places[first][0], places[last][1])
    result = redact(text, spans, policy(operator), context("P1"))
    [row] = entity_rows("n1", [found], result.text, result.offset_map, id_key=ID_KEY)
    inside = places[first : last + 1]
    phi_inside = [span for _, _, span in inside if span is not None]
    assert (row["start"], row["end"]) == (found.start, found.end)
    if len(inside) == 1 and phi_inside:  # inside one redacted span: no released position
        assert row["start_deid"] is row["end_deid"] is row["text_deid"] is None
        return
    assert row["text_deid"] == result.text[row["start_deid"] : row["end_deid"]]
    # The released surface is the entity's pieces as released, PHI replaced.
    released = []
    for start, end, span in inside:
        if span is None:
            released.append(text[start:end])
        else:
            a, b = project_span(span.start, span.end, result.offset_map)
            released.append(result.text[a:b])
    assert row["text_deid"] == " ".join(released)
    if not phi_inside:
        assert row["text_deid"] == text[found.start : found.end]
    # No original name or contact word survives in it, unless as another value's
    # replacement (dates keep their year under Safe Harbor, and may share a day).
    replaced_words = {w for piece in released for w in words(piece)}
    for span in (s for s in phi_inside if s.phi_type != "DATE"):
        original = set(words(text[span.start : span.end]))
        a, b = project_span(span.start, span.end, result.offset_map)
        own = set(words(result.text[a:b]))
        assert not original & own
        assert not original & (replaced_words - own) or operator == "surrogate"


def test_an_eponym_inside_a_name_carries_the_tag_not_the_name():
    text = "Dx: Parkinson disease, per Dr. Parkinson."
    name = Span(4, 13, "NAME", "PATIENT", 0.9, "model")  # the model took the eponym for a name
    doctor = Span(31, 40, "NAME", "DOCTOR", 0.99, "model")
    result = redact(text, [name, doctor], policy("tag"), context("P1"))
    rows = entity_rows(
        "n1", [entity(4, 21), entity(31, 40)], result.text, result.offset_map, id_key=ID_KEY
    )
    assert rows[0]["text_deid"] == "[NAME] disease"
    assert "Parkinson" not in rows[0]["text_deid"]
    assert result.text[rows[0]["start_deid"] : rows[0]["end_deid"]] == "[NAME] disease"
    assert rows[1]["start_deid"] is None and rows[1]["text_deid"] is None


def test_covered_by_adjacent_redactions():
    segments = (
        OffsetSegment(0, 4, 0, 6),
        OffsetSegment(4, 9, 6, 12),
        OffsetSegment(12, 15, 15, 18),
    )
    assert covered_by_redactions(0, 9, segments)
    assert covered_by_redactions(2, 7, segments)
    assert not covered_by_redactions(2, 10, segments)
    assert not covered_by_redactions(9, 12, segments)
    assert covered_by_redactions(12, 15, segments)
    assert not covered_by_redactions(0, 3, ())


def test_entity_id_is_stable_and_distinguishes_entities():
    a = entity_id(ID_KEY, "n1", entity(0, 5))
    assert a == entity_id(ID_KEY, "n1", entity(0, 5))
    assert (
        len({a, entity_id(ID_KEY, "n2", entity(0, 5)), entity_id(ID_KEY, "n1", entity(0, 6))}) == 3
    )
    # Keyed: without the key, the original offsets cannot be found by trying them all.
    assert entity_id(b"j" * 32, "n1", entity(0, 5)) != a
