import pytest

from transforms.core.spans import Span
from transforms.redaction.operator import OperatorConfigError, RedactionContext
from transforms.redaction.policy import build_operator

CTX = RedactionContext("n", "p", date_shift_days=-70, reference_year=2021, hash_key=b"h" * 32)


def span(phi_type, subtype=None):
    return Span(0, 1, phi_type, subtype or phi_type, 1.0, "t")


def apply(spec, original, phi_type="NAME", subtype=None, context=CTX):
    return build_operator(spec).replace(original, span(phi_type, subtype), context)


def test_mask_and_remove():
    assert apply({"type": "mask"}, "John Smith") == "**** *****"
    assert apply({"type": "mask", "char": "X"}, "Roe") == "XXX"
    assert apply({"type": "remove"}, "Roe") == ""
    with pytest.raises(OperatorConfigError, match="mask.char"):
        build_operator({"type": "mask", "char": "**"})


def test_hash_is_keyed_stable_and_optionally_format_preserving():
    first = apply({"type": "hash"}, "MRN-123456")
    assert first == apply({"type": "hash"}, " mrn-123456 ") and len(first) == 12
    other = RedactionContext("n", "p", hash_key=b"k" * 32)
    assert apply({"type": "hash"}, "MRN-123456", context=other) != first
    shaped = apply({"type": "hash", "format_preserving": True}, "Ab-123456")
    assert shaped[0].isupper() and shaped[1].islower() and shaped[2] == "-"
    assert shaped[3:].isdigit() and shaped != "Ab-123456"
    with pytest.raises(OperatorConfigError, match="length"):
        build_operator({"type": "hash", "length": 2})


def test_date_shift_operator_falls_back_to_a_tag():
    assert apply({"type": "date_shift"}, "03/14/2021", "DATE") == "01/03/2021"
    assert apply({"type": "date_shift"}, "Christmas", "DATE") == "[DATE]"


def test_generalize():
    assert apply({"type": "generalize"}, "93", "AGE") == "90+"
    assert apply({"type": "generalize", "age_phrase": "ninety or older"}, "101", "AGE") == (
        "ninety or older"
    )
    assert apply({"type": "generalize"}, "72", "AGE") == "72"
    assert apply({"type": "generalize"}, "March 14, 2021", "DATE") == "2021"
    assert apply({"type": "generalize"}, "March 14", "DATE") == "[DATE]"
    assert apply({"type": "generalize"}, "02115", "LOCATION", "ZIP") == "021"
    assert apply({"type": "generalize"}, "03601", "LOCATION", "ZIP") == "000"
    assert apply({"type": "generalize"}, "Boston", "LOCATION", "CITY") == "[LOCATION]"
    with pytest.raises(OperatorConfigError, match="restricted_zip3"):
        build_operator({"type": "generalize", "restricted_zip3": ["12"]})


SURROGATE_CTX = RedactionContext(
    "n", "p", date_shift_days=-70, reference_year=2021, surrogate_key=b"s" * 32
)


def test_surrogate_by_phi_type():
    name = apply({"type": "surrogate"}, "Mary Smith", context=SURROGATE_CTX)
    assert name != "Mary Smith" and len(name.split()) == 2 and name.istitle()
    assert apply({"type": "surrogate"}, "03/14/2021", "DATE", context=SURROGATE_CTX) == (
        "01/03/2021"
    )
    assert apply({"type": "surrogate"}, "93", "AGE", context=SURROGATE_CTX) == "90+"
    assert apply({"type": "surrogate"}, "72", "AGE", context=SURROGATE_CTX) == "72"
    street = apply({"type": "surrogate"}, "12 Oak Street", "LOCATION", "STREET", SURROGATE_CTX)
    assert street.endswith(" Street") and street[:2].isdigit() and street != "12 Oak Street"


def test_surrogate_keep_words_never_keep_part_of_a_name():
    # Found by hypothesis: "Lane" is a street word and a surname.
    name = apply({"type": "surrogate"}, "Aalts Lane", context=SURROGATE_CTX)
    assert "Lane" not in name and len(name.split()) == 2
    street = apply({"type": "surrogate"}, "4 Aalts Lane", "LOCATION", "STREET", SURROGATE_CTX)
    assert street.endswith(" Lane")


def test_surrogate_tags_what_it_cannot_replace_and_needs_a_key():
    assert apply({"type": "surrogate"}, "Hospital", "LOCATION", context=SURROGATE_CTX) == (
        "[LOCATION]"
    )
    assert apply({"type": "surrogate", "keep_words": []}, "Hospital", context=SURROGATE_CTX) != (
        "Hospital"
    )
    with pytest.raises(OperatorConfigError, match="needs a key"):
        apply({"type": "surrogate"}, "Mary")
    with pytest.raises(OperatorConfigError, match="single words"):
        build_operator({"type": "surrogate", "keep_words": ["St."]})


def test_restricted_zip3_default_covers_both_census_lists():
    from transforms.redaction.operators.generalize import (
        CENSUS_2010_RESTRICTED_ZIP3,
        DEFAULT_RESTRICTED_ZIP3,
        HHS_2000_RESTRICTED_ZIP3,
    )

    assert len(HHS_2000_RESTRICTED_ZIP3) == 17 and len(CENSUS_2010_RESTRICTED_ZIP3) == 14
    assert set(DEFAULT_RESTRICTED_ZIP3) == set(HHS_2000_RESTRICTED_ZIP3) | set(
        CENSUS_2010_RESTRICTED_ZIP3
    )
    for zip_code in ("20501", "36912", "79001", "89012"):  # 2010-only and 2000-only prefixes
        assert apply({"type": "generalize"}, zip_code, "LOCATION", "ZIP") == "000"
    assert apply({"type": "generalize", "restricted_zip3": []}, "20501", "LOCATION", "ZIP") == (
        "205"
    )
