"""The CMS-HCC engine: regression cases from other engines' known bugs, and the
differential test against hccinfhir and risk-adjustment-model."""

import pytest

from transforms.hcc.engine import Member, MemberError, score_member, segment_of
from transforms.hcc.tables import HccTableError, load_payment_year

AGED_WOMAN = Member("m1", 72, "F")


def test_v28_hierarchy_links_for_heart_hccs():
    # hccpy dropped the V28 links of HCC 221/222: its score was 3.223.
    score = score_member(AGED_WOMAN, ["Z94.1", "I50.22", "E11.22", "N18.4", "J44.9"], 2026)
    v28 = score.models["V28"]
    assert v28.segment == "CNA"
    assert round(v28.raw, 3) == 2.813
    dropped = {h.hcc: h.dropped_by for h in v28.hccs if h.dropped_by}
    assert dropped == {"226": ("221",)}
    assert {h.hcc: h.codes for h in v28.hccs}["221"] == ("Z941",)
    assert round(v28.normalized, 3) == round(2.813 / 1.067, 3)
    assert round(score.blended, 3) == round(2.813 / 1.067 * 0.941, 3) == 2.481


def test_hf_hcc238_interaction():
    score = score_member(AGED_WOMAN, ["I50.22", "I48.0"], 2026).models["V28"]
    assert "HF_HCC238_V28" in score.variables


def test_ltimcaid_is_demographic_and_scores_without_diagnoses():
    member = Member("m2", 80, "M", dual="full", institutional=True)
    score = score_member(member, [], 2026).models["V28"]
    assert score.segment == "INS"
    assert set(score.variables) == {"M80_84", "LTIMCAID"}


def test_new_enrollees_get_no_disease_hccs():
    member = Member("m3", 66, "F", orec="1", dual="partial", new_enrollee=True)
    score = score_member(member, ["I50.22", "E11.22"], 2026).models["V28"]
    assert score.segment == "NE" and score.hccs == ()
    assert list(score.variables) == ["MCAID_ORIGDIS_NEF66"]


def test_blends_by_payment_year():
    codes = ["I50.22", "E11.22"]
    for year, weights in ((2024, (0.67, 0.33)), (2025, (0.33, 0.67))):
        score = score_member(AGED_WOMAN, codes, year)
        expected = (
            weights[0] * score.models["V24"].adjusted + weights[1] * score.models["V28"].adjusted
        )
        assert score.blended == pytest.approx(expected)
    assert set(score_member(AGED_WOMAN, codes, 2026).models) == {"V28"}


@pytest.mark.parametrize(
    "member, segment",
    [
        (Member("a", 70, "F"), "CNA"),
        (Member("b", 50, "M", orec="1"), "CND"),
        (Member("c", 70, "F", dual="full"), "CFA"),
        (Member("d", 40, "F", dual="full", orec="1"), "CFD"),
        (Member("e", 70, "M", dual="partial"), "CPA"),
        (Member("f", 40, "M", dual="partial", orec="1"), "CPD"),
        (Member("g", 70, "M", institutional=True), "INS"),
        (Member("h", 65, "M", new_enrollee=True), "NE"),
        (Member("i", 65, "M", new_enrollee=True, snp=True), "SNPNE"),
    ],
)
def test_segments(member, segment):
    assert segment_of(member) == segment


def test_bad_demographics_and_years_are_named():
    with pytest.raises(
        MemberError,
        match=r"^member x: sex is not F or M; dual_status is not one of none, partial, full$",
    ):
        score_member(Member("x", 70, "U", dual="yes"), [], 2026)
    with pytest.raises(HccTableError, match="payment year 2023 is not supported"):
        load_payment_year(2023)


@pytest.mark.parametrize("payment_year", [2025, 2026])
def test_differential_against_two_reference_engines(payment_year):
    pytest.importorskip("hccinfhir")
    pytest.importorskip("risk_adjustment_model")
    from tests.transforms.hcc.reference_engines import run_differential

    rows = run_differential(150, payment_year, seed=payment_year)
    unexplained = [
        (member, comparison)
        for member, _, comparisons in rows
        for comparison in comparisons
        if not comparison.matches and not comparison.explained
    ]
    assert not unexplained
    segments = {c.segment for _, _, comparisons in rows for c in comparisons}
    assert segments == {"CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE", "SNPNE"}


def test_heart_assist_device_without_heart_failure_drops_nothing():
    # Without heart failure CC 223 (Z95.811) is zeroed before the hierarchies, as in
    # hccinfhir, so it cannot drop HCC 227; risk-adjustment-model drops 227 (see
    # bench/hcc_differential.md for the case and why).
    alone = score_member(AGED_WOMAN, ["I42.8", "Z95.811"], 2026).models["V28"]
    assert [(h.hcc, h.dropped_by) for h in alone.hccs] == [("227", ())]
    with_hf = score_member(AGED_WOMAN, ["I42.8", "Z95.811", "I50.9"], 2026).models["V28"]
    assert {h.hcc: h.dropped_by for h in with_hf.hccs} == {
        "223": (),
        "226": ("223",),
        "227": ("223", "226"),
    }
