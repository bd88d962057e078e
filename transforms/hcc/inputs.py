"""Member and diagnosis records: validation and encounter eligibility, as pure functions.

Every input record ends in exactly one place. A member is scored or
quarantined; a diagnosis is quarantined (unreadable, invalid ICD-10-CM code,
unknown member) or kept with an ``eligible`` flag and the reason for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from transforms.hcc.engine import Member, normalise_code
from transforms.hcc.tables import icd10cm_codes

MEMBER_COLUMNS = ("member_id", "sex")
DIAGNOSIS_COLUMNS = ("member_id", "code", "date_of_service", "encounter_id", "source")

# What each encounter source means for payment (CMS: a diagnosis counts only
# from a face-to-face or video encounter with an acceptable provider; the CY2027
# Rate Announcement stops unlinked chart-review diagnoses from counting).
ELIGIBLE_SOURCES = frozenset({"face_to_face", "video", "chart_review"})
INELIGIBLE_SOURCES = {"audio_only": "audio_only", "telephone": "audio_only"}

ELIGIBILITY_REASONS: dict[str, str] = {
    "eligible": "from an encounter with a date of service, face-to-face or video",
    "no_encounter": "not linked to an encounter",
    "no_date_of_service": "the encounter has no date of service",
    "audio_only": "from an audio-only encounter",
    "unlinked_chart_review": "a chart-review diagnosis with no encounter link",
    "outside_collection_year": "the date of service is not in the year before the payment year",
    "unknown_source": "the source is none of the known encounter kinds",
}
HCC_QUARANTINE_REASONS: dict[str, str] = {
    "missing_member_id": "the member_id field is absent or empty",
    "invalid_member": "a demographic field is missing or invalid; detail names it",
    "duplicate_member_id": "another member record in this run has the same member_id",
    "invalid_icd10": "the code is not an ICD-10-CM code",
    "non_billable_icd10": "the code is an ICD-10-CM category, not a billable code",
    "invalid_date_of_service": "the date_of_service is not a date",
    "unknown_member": "the diagnosis names a member_id not in the member file",
    "member_quarantined": "the diagnosis belongs to a member whose record was quarantined",
    "unreadable_record": "the record could not be parsed",
    "not_a_diagnosis": "a FHIR Condition whose verificationStatus is refuted or entered-in-error",
}

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}


class RecordError(ValueError):
    """A record that cannot be used; ``reason`` is a quarantine reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _text(value: Any) -> str:
    if value.__class__ is str:  # the common case, first
        return value.strip()
    return "" if value is None else str(value).strip()


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    value = _text(fields.get(name)).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RecordError("invalid_member", f"{name} is not a yes/no value")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    return _iso_date(text[:10])


# Exports repeat the same few hundred dates and sources millions of times.
@lru_cache(maxsize=8192)
def _iso_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@lru_cache(maxsize=256)
def _source_kind(text: str) -> str:
    return text.lower().replace("-", "_").replace(" ", "_")


def age_on_february_1(birth_date: dt.date, payment_year: int) -> int:
    """CMS computes age as of February 1 of the payment year."""
    anchor = dt.date(payment_year, 2, 1)
    return (
        anchor.year
        - birth_date.year
        - ((anchor.month, anchor.day) < (birth_date.month, birth_date.day))
    )


def parse_member(fields: Mapping[str, Any], payment_year: int) -> Member:
    """A Member from one input row: ``birth_date`` (or ``age``), ``sex``, ``orec``,
    ``dual_status``, ``institutional``, ``new_enrollee``, ``snp``."""
    member_id = _text(fields.get("member_id"))
    if not member_id:
        raise RecordError("missing_member_id", "member_id is missing")
    try:
        birth = _date(fields.get("birth_date"))
    except ValueError:
        raise RecordError("invalid_member", "birth_date is not an ISO date") from None
    if birth is not None:
        age = age_on_february_1(birth, payment_year)
    else:
        age_text = _text(fields.get("age"))
        if not age_text.isdigit():
            raise RecordError("invalid_member", "neither birth_date nor a whole-number age")
        age = int(age_text)
    sex = _text(fields.get("sex")).upper()[:1]
    orec = _text(fields.get("orec")) or "0"
    dual = _text(fields.get("dual_status")).lower() or "none"
    member = Member(
        member_id=member_id,
        age=age,
        sex=sex,
        orec=orec,
        dual=dual,
        institutional=_flag(fields, "institutional"),
        new_enrollee=_flag(fields, "new_enrollee"),
        snp=_flag(fields, "snp"),
    )
    problems = member.problems()
    if problems:
        raise RecordError("invalid_member", "; ".join(problems))
    return member


def check_code(code: str, known: Mapping[str, Any]) -> None:
    """Raise unless ``code`` is a billable ICD-10-CM code.

    A code in the payment year's HCC mapping is valid by definition; any other
    is checked against the bundled ICD-10-CM code set (April 2026 release).
    """
    if code in known:
        return
    billable = icd10cm_codes().get(code)
    if billable is None:
        raise RecordError("invalid_icd10", "the code is not in ICD-10-CM")
    if not billable:
        raise RecordError("non_billable_icd10", "the code is a category, not a billable code")


@dataclass(frozen=True)
class Diagnosis:
    member_id: str
    code: str  # normalised: no dot, upper case
    date_of_service: dt.date | None
    encounter_id: str | None
    source: str
    eligible: bool
    reason: str


def eligibility(
    *, date_of_service: dt.date | None, encounter_id: str | None, source: str, payment_year: int
) -> str:
    """The reason code for whether a diagnosis counts; ``"eligible"`` when it does."""
    if source in INELIGIBLE_SOURCES:
        return INELIGIBLE_SOURCES[source]
    if source not in ELIGIBLE_SOURCES:
        return "unknown_source"
    if not encounter_id:
        return "unlinked_chart_review" if source == "chart_review" else "no_encounter"
    if date_of_service is None:
        return "no_date_of_service"
    if date_of_service.year != payment_year - 1:
        return "outside_collection_year"
    return "eligible"


def parse_diagnosis(
    fields: Mapping[str, Any], payment_year: int, known_codes: Mapping[str, Any]
) -> Diagnosis:
    member_id = _text(fields.get("member_id"))
    if not member_id:
        raise RecordError("missing_member_id", "member_id is missing")
    code = normalise_code(_text(fields.get("code")))
    check_code(code, known_codes)
    try:
        service_date = _date(fields.get("date_of_service"))
    except ValueError:
        raise RecordError("invalid_date_of_service", "date_of_service is not an ISO date") from None
    encounter_id = _text(fields.get("encounter_id")) or None
    source = _source_kind(_text(fields.get("source")))
    reason = eligibility(
        date_of_service=service_date,
        encounter_id=encounter_id,
        source=source,
        payment_year=payment_year,
    )
    return Diagnosis(
        member_id, code, service_date, encounter_id, source, reason == "eligible", reason
    )
