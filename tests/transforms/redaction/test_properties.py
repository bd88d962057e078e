"""Properties of redaction that must hold for any note: checked with hypothesis."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.core.keyed import patient_key
from transforms.core.offsets import project_span
from transforms.core.spans import Span
from transforms.core.text import fold
from transforms.redaction.engine import redact
from transforms.redaction.operator import RedactionContext
from transforms.redaction.policy import RedactionPolicy
from transforms.redaction.surrogates import bundled_name_pools

POOLS = bundled_name_pools()
# Filler shares no word with the PHI values below, so any PHI value found in
# the output can only have come from a span.
FILLER = ["the", "patient", "was", "seen", "for", "follow-up", "and", "is", "stable", "."]
names = st.sampled_from(POOLS.pools[2][::12] + POOLS.pools[0][::10]).map(str.capitalize)
ids = st.from_regex(r"[A-Z]{2}[0-9]{6}", fullmatch=True)
phones = st.from_regex(r"\([2-9][0-9]{2}\) [0-9]{3}-[0-9]{4}", fullmatch=True)
rare_words = st.from_regex(
    r"[bcdfghjklmnpqrstvwxz]{3}[aeiou][bcdfghjklmnpqrstvwxz]{3}", fullmatch=True
)
full_names = st.tuples(names, names).map(lambda pair: (" ".join(pair), "NAME"))
values = st.one_of(
    names.map(lambda v: (v, "NAME")),
    full_names,
    rare_words.map(lambda v: (v.capitalize(), "NAME")),
    ids.map(lambda v: (v, "ID")),
    phones.map(lambda v: (v, "CONTACT")),
)
OPERATORS = ["tag", "mask", "hash", "surrogate", "remove"]


def build_note(pieces: list[tuple[str, str] | str]) -> tuple[str, list[Span]]:
    text, spans = "", []
    for piece in pieces:
        if text:
            text += " "
        if isinstance(piece, tuple):
            value, phi_type = piece
            spans.append(Span(len(text), len(text) + len(value), phi_type, phi_type, 1.0, "t"))
            text += value
        else:
            text += piece
    return text, spans


notes = st.lists(st.one_of(st.sampled_from(FILLER), values), min_size=1, max_size=25)


def context(patient: str, note_id: str = "n") -> RedactionContext:
    return RedactionContext(
        note_id,
        patient,
        date_shift_days=-40,
        hash_key=b"h" * 32,
        surrogate_key=patient_key(b"s" * 32, patient),
    )


def policy(operator: str) -> RedactionPolicy:
    return RedactionPolicy.from_config({"type": operator}, {}, {})


def replaced_at(result, span: Span) -> str:
    start, end = project_span(span.start, span.end, result.offset_map)
    return result.text[start:end]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


@settings(max_examples=200, deadline=None)
@given(notes, st.sampled_from(OPERATORS))
@example(pieces=[("Aalts Lane", "NAME")], operator="surrogate")  # "Lane" is a keep word
def test_no_original_phi_value_survives(pieces, operator):
    text, spans = build_note(pieces)
    result = redact(text, spans, policy(operator), context("P1"))
    replaced = [replaced_at(result, span) for span in spans]
    output = set(words(result.text))
    for index, span in enumerate(spans):
        before, after = words(text[span.start : span.end]), words(replaced[index])
        # At its own place, every word of a value is replaced (a surrogate word for word).
        if len(before) == len(after):
            assert all(b != a for b, a in zip(before, after, strict=True)), (before, after)
        else:
            assert not set(before) & set(after), (before, after)
        # Anywhere else, a word of it may appear only as another value's replacement
        # (the surrogate of one name may be another real name, never its own). A digit
        # group moves by a keyed permutation of the groups of its format, so the surrogate
        # of one group of a phone number may be another group's original ("790" -> "908"
        # in "(908) 790-0000"): that says nothing of where the original was.
        elsewhere = {w for i, other in enumerate(replaced) if i != index for w in words(other)}
        elsewhere |= {w for w in words(replaced[index]) if w.isdigit()}
        leaked = set(before) & output
        assert leaked <= elsewhere, leaked


@settings(max_examples=100, deadline=None)
@given(st.lists(values, min_size=1, max_size=8), st.sampled_from(["hash", "surrogate"]))
def test_consistent_across_notes_case_and_runs(planted, operator):
    first, first_spans = build_note(["seen", *planted])
    upper, upper_spans = build_note(["follow-up", *[(v.upper(), t) for v, t in planted]])
    chosen = policy(operator)
    in_note_a = redact(first, first_spans, chosen, context("P1", "a"))
    in_note_b = redact(upper, upper_spans, chosen, context("P1", "b"))
    # A second run builds everything afresh from the same key.
    assert redact(first, first_spans, policy(operator), context("P1", "a")) == in_note_a
    for span_a, span_b in zip(first_spans, upper_spans, strict=True):
        a, b = replaced_at(in_note_a, span_a), replaced_at(in_note_b, span_b)
        assert fold(a) == fold(b)  # the same value, the same replacement
        if operator == "surrogate":
            assert b == b.upper()  # in the case of the original


@settings(max_examples=50, deadline=None)
@given(st.lists(names, min_size=5, max_size=5, unique=True))
def test_different_patients_get_different_surrogates(planted):
    text, spans = build_note([(name, "NAME") for name in planted])
    one = redact(text, spans, policy("surrogate"), context("P1")).text
    other = redact(text, spans, policy("surrogate"), context("P2")).text
    assert one != other
