import datetime as dt

import pytest

from transforms.hcc.inputs import (
    ELIGIBILITY_REASONS,
    RecordError,
    age_on_february_1,
    eligibility,
    parse_diagnosis,
    parse_member,
)
from transforms.hcc.tables import load_payment_year

KNOWN = load_payment_year(2026).models["V28"].dx_to_cc


def test_age_is_taken_on_february_1_of_the_payment_year():
    assert age_on_february_1(dt.date(1960, 2, 1), 2026) == 66
    assert age_on_february_1(dt.date(1960, 2, 2), 2026) == 65
    member = parse_member({"member_id": "m", "birth_date": "1960-02-02", "sex": "f"}, 2026)
    assert (member.age, member.sex, member.orec, member.dual) == (65, "F", "0", "none")


def test_member_fields_and_errors():
    member = parse_member(
        {
            "member_id": " m1 ",
            "age": "70",
            "sex": "M",
            "orec": "1",
            "dual_status": "Full",
            "institutional": "Y",
            "new_enrollee": "0",
            "snp": "",
        },
        2026,
    )
    assert member.member_id == "m1" and member.institutional and member.dual == "full"
    with pytest.raises(RecordError) as raised:
        parse_member({"member_id": "m2", "age": "70", "sex": "X", "orec": "9"}, 2026)
    assert raised.value.reason == "invalid_member"
    assert raised.value.detail == "sex is not F or M; orec is not one of 0, 1, 2, 3"
    for fields, reason in [
        ({"sex": "F", "age": "70"}, "missing_member_id"),
        ({"member_id": "m", "sex": "F"}, "invalid_member"),
        ({"member_id": "m", "sex": "F", "birth_date": "June"}, "invalid_member"),
        ({"member_id": "m", "sex": "F", "age": "70", "snp": "maybe"}, "invalid_member"),
    ]:
        with pytest.raises(RecordError) as raised:
            parse_member(fields, 2026)
        assert raised.value.reason == reason


@pytest.mark.parametrize(
    "date_of_service, encounter_id, source, reason",
    [
        (dt.date(2025, 3, 1), "E1", "face_to_face", "eligible"),
        (dt.date(2025, 3, 1), "E1", "video", "eligible"),
        (dt.date(2025, 3, 1), "E1", "chart_review", "eligible"),
        (dt.date(2025, 3, 1), None, "chart_review", "unlinked_chart_review"),
        (dt.date(2025, 3, 1), None, "face_to_face", "no_encounter"),
        (None, "E1", "face_to_face", "no_date_of_service"),
        (dt.date(2025, 3, 1), "E1", "audio_only", "audio_only"),
        (dt.date(2024, 12, 31), "E1", "video", "outside_collection_year"),
        (dt.date(2025, 3, 1), "E1", "fax", "unknown_source"),
    ],
)
def test_eligibility(date_of_service, encounter_id, source, reason):
    assert reason in ELIGIBILITY_REASONS
    found = eligibility(
        date_of_service=date_of_service,
        encounter_id=encounter_id,
        source=source,
        payment_year=2026,
    )
    assert found == reason


def test_diagnosis_codes_are_checked_against_icd10cm():
    row = {
        "member_id": "m",
        "date_of_service": "2025-05-01",
        "encounter_id": "E",
        "source": "Video",
    }
    parsed = parse_diagnosis({**row, "code": "i50.22"}, 2026, KNOWN)
    assert (parsed.code, parsed.eligible, parsed.source) == ("I5022", True, "video")
    # Valid ICD-10-CM codes that map to no HCC are kept.
    assert parse_diagnosis({**row, "code": "I10"}, 2026, KNOWN).code == "I10"
    # R99 is a category named like its one-category block, and billable.
    assert parse_diagnosis({**row, "code": "R99"}, 2026, {}).code == "R99"
    for code, reason in [
        ("XYZ.123", "invalid_icd10"),
        ("E11", "non_billable_icd10"),
        ("", "invalid_icd10"),
    ]:
        with pytest.raises(RecordError) as raised:
            parse_diagnosis({**row, "code": code}, 2026, KNOWN)
        assert raised.value.reason == reason
    with pytest.raises(RecordError, match="date_of_service"):
        parse_diagnosis({**row, "code": "I10", "date_of_service": "05/01/2025"}, 2026, KNOWN)
