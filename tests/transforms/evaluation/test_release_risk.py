import pytest

from transforms.evaluation.release_risk import expected_missed_tokens, k_anonymity

COLUMNS = ("birth_year", "zip3")


def test_a_planted_unique_combination_is_the_only_group_below_k():
    records = [(f"p{i}", ("1950", "021")) for i in range(6)]
    records += [(f"q{i}", ("1962", "100")) for i in range(5)]
    records.append(("unique", ("1931", "021")))
    result = k_anonymity(records, COLUMNS, k=5)
    assert result.smallest_group == 1
    assert result.patients_below_k == ["unique"]
    assert [g.values for g in result.small_groups] == [("1931", "021")]
    assert result.groups == 3 and result.records == 12


def test_group_sizes_count_patients_not_notes():
    # One patient with ten notes is still one person to an adversary.
    records = [("p1", ("1950", "021"))] * 10 + [("p2", ("1950", "021"))]
    result = k_anonymity(records, COLUMNS, k=3)
    assert result.smallest_group == 2 and result.patients_below_k == ["p1", "p2"]
    assert k_anonymity(records, COLUMNS, k=2).patients_below_k == []


def test_missing_values_form_their_own_group_and_bad_input_is_refused():
    result = k_anonymity([("p1", (None, "021")), ("p2", ("1950", "021"))], COLUMNS, k=2)
    assert len(result.small_groups) == 2 and result.small_groups[1].values == (None, "021")
    with pytest.raises(ValueError):
        k_anonymity([("p1", ("1950",))], COLUMNS, k=2)
    with pytest.raises(ValueError):
        k_anonymity([], COLUMNS, k=1)
    assert k_anonymity([], COLUMNS, k=2).smallest_group is None


def test_expected_missed_tokens_follow_from_recall():
    # 990 found at recall 0.99 imply 1,000 in all: 10 missed over 100 notes, 100 per 1,000.
    [date, name] = expected_missed_tokens(
        {"NAME": 990, "DATE": 500}, {"NAME": 0.99, "ALL": 0.5}, notes=100
    )
    assert name.phi_type == "NAME" and name.missed_per_1000_notes == pytest.approx(100.0)
    # DATE has no figure of its own and takes the ALL figure.
    assert date.recall == 0.5 and date.missed_per_1000_notes == pytest.approx(5000.0)
    [unknown] = expected_missed_tokens({"ID": 3}, {}, notes=10)
    assert unknown.recall is None and unknown.missed_per_1000_notes is None
