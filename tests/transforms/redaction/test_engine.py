import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.core.offsets import project_span
from transforms.core.spans import Span, merge_spans
from transforms.redaction.engine import redact
from transforms.redaction.operator import OperatorConfigError, RedactionContext
from transforms.redaction.policy import RedactionPolicy, build_operator

CTX = RedactionContext(note_id="n1", patient_id="p1")


def policy(**by_type):
    return RedactionPolicy.from_config({"type": "tag"}, by_type, {})


def test_tags_replace_spans():
    text = "Seen by Dr. Roe on 3/14."
    spans = [Span(12, 15, "NAME", "DOCTOR", 0.9, "p"), Span(19, 23, "DATE", "DATE", 0.9, "p")]
    result = redact(text, spans, policy(), CTX)
    assert result.text == "Seen by Dr. [NAME] on [DATE]."


def test_subtype_operator_beats_phi_type_operator():
    pol = RedactionPolicy.from_config(
        {"type": "tag"},
        {"NAME": {"type": "tag", "template": "<{phi_type}>"}},
        {"doctor": {"type": "tag", "template": "[DR]"}},
    )
    text = "Roe and Poe"
    spans = [Span(0, 3, "NAME", "DOCTOR", 1, "p"), Span(8, 11, "NAME", "PATIENT", 1, "p")]
    assert redact(text, spans, pol, CTX).text == "[DR] and <NAME>"


def test_operator_validation_names_the_problem():
    with pytest.raises(OperatorConfigError, match="template"):
        build_operator({"type": "tag", "template": "[{nope}]"})
    with pytest.raises(OperatorConfigError, match="unknown operator type"):
        build_operator({"type": "shred"})
    with pytest.raises(OperatorConfigError, match="unknown phi_type"):
        RedactionPolicy.from_config({"type": "tag"}, {"NAMES": {"type": "tag"}}, {})


def test_redact_refuses_overlapping_spans():
    spans = [Span(0, 5, "NAME", "NAME", 1, "p"), Span(3, 8, "NAME", "NAME", 1, "p")]
    with pytest.raises(ValueError, match="merge_spans"):
        redact("abcdefghij", spans, policy(), CTX)


def test_projection_of_spans_around_and_inside_replacements():
    text = "Pt John Smith has CHF since 2019-01-02 ok"
    spans = [Span(3, 13, "NAME", "PATIENT", 1, "p"), Span(28, 38, "DATE", "DATE", 1, "p")]
    result = redact(text, spans, policy(), CTX)
    assert result.text == "Pt [NAME] has CHF since [DATE] ok"
    chf = text.index("CHF")
    start, end = project_span(chf, chf + 3, result.offset_map)
    assert result.text[start:end] == "CHF"
    # A span that cuts into a replacement is widened to the whole replacement.
    start, end = project_span(8, 17, result.offset_map)
    assert result.text[start:end] == "[NAME] has"
    start, end = project_span(0, 2, result.offset_map)
    assert result.text[start:end] == "Pt"


@given(
    st.text(alphabet="abc XYZ.", min_size=1, max_size=80),
    st.lists(st.tuples(st.integers(0, 79), st.integers(1, 8)), max_size=8),
)
def test_projected_unredacted_text_is_unchanged(text, raw_spans):
    spans = merge_spans(
        Span(s, min(s + n, len(text)), "NAME", "NAME", 1, "p")
        for s, n in raw_spans
        if s < len(text)
    )
    result = redact(text, spans, policy(), CTX)
    covered = {i for s in spans for i in range(s.start, s.end)}
    for i in range(len(text)):
        if i in covered:
            continue
        start, end = project_span(i, i + 1, result.offset_map)
        assert result.text[start:end] == text[i]
