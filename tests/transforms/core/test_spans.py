import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.phi_types import PHI_TYPES, coarse_type
from transforms.core.spans import TYPE_PRECEDENCE, Span, merge_spans


def span(start, end, phi_type="NAME", score=0.8, detector="d", subtype=None):
    return Span(start, end, phi_type, subtype or phi_type, score, detector)


def test_every_phi_type_has_a_precedence():
    assert set(TYPE_PRECEDENCE) == set(PHI_TYPES)


def test_unknown_subtype_is_other():
    assert coarse_type("SOMETHING_NEW") == "OTHER"
    assert coarse_type("doctor") == "NAME"


def test_span_rejects_bad_offsets_and_types():
    with pytest.raises(ValueError):
        span(5, 5)
    with pytest.raises(ValueError):
        span(0, 3, phi_type="NOPE")


def test_disjoint_spans_are_kept_sorted():
    assert merge_spans([span(10, 12), span(0, 3)]) == [span(0, 3), span(10, 12)]


def test_touching_spans_stay_separate():
    assert merge_spans([span(0, 4), span(4, 8)]) == [span(0, 4), span(4, 8)]


def test_overlap_takes_union_and_highest_score_type():
    merged = merge_spans(
        [span(0, 10, "DATE", 0.6, "a"), span(5, 15, "ID", 0.9, "b", subtype="MRN")]
    )
    assert merged == [Span(0, 15, "ID", "MRN", 0.9, "a+b")]


def test_equal_scores_prefer_the_more_sensitive_type():
    merged = merge_spans([span(0, 10, "DATE", 0.9), span(0, 10, "ID", 0.9)])
    assert merged[0].phi_type == "ID"


def test_chained_overlaps_form_one_group():
    merged = merge_spans([span(0, 5), span(4, 9), span(8, 12)])
    assert [(s.start, s.end) for s in merged] == [(0, 12)]


spans_strategy = st.lists(
    st.tuples(
        st.integers(0, 200),
        st.integers(1, 30),
        st.sampled_from(PHI_TYPES),
        st.floats(0, 1, allow_nan=False),
    ),
    max_size=30,
).map(lambda items: [Span(s, s + n, t, t, sc, "d") for s, n, t, sc in items])


@given(spans_strategy)
def test_merge_never_uncovers_a_character_and_never_overlaps(spans):
    merged = merge_spans(spans)
    covered = {i for s in spans for i in range(s.start, s.end)}
    merged_cover = {i for s in merged for i in range(s.start, s.end)}
    assert covered == merged_cover
    for left, right in zip(merged, merged[1:], strict=False):
        assert left.end <= right.start


@given(spans_strategy)
def test_merge_is_order_independent(spans):
    assert merge_spans(spans) == merge_spans(list(reversed(spans)))


def test_a_specific_subtype_survives_a_generic_higher_scoring_span():
    merged = merge_spans(
        [
            span(10, 15, "LOCATION", 0.85, "patterns", subtype="ZIP"),
            span(0, 15, "LOCATION", 0.99, "model"),
        ]
    )
    assert (merged[0].subtype, merged[0].score, merged[0].start) == ("ZIP", 0.99, 0)
