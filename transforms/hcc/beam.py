"""Beam steps of ``deidcode hcc score``: thin wrappers around the pure functions.

Members and diagnoses are parsed in batches as they are read (diagnoses
travel as one list per member and batch), joined by member_id with
``CoGroupByKey``, and each member is scored once with all of their eligible
diagnoses. Rows for the output tables are built by the plain functions below.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.core.records import RawRecord
from transforms.hcc.engine import Member, MemberScore, score_member
from transforms.hcc.inputs import HCC_QUARANTINE_REASONS, RecordError, parse_diagnosis, parse_member
from transforms.hcc.tables import load_payment_year

_EPOCH = dt.date(1970, 1, 1)
MEMBERS_READ = "hcc_members_read"
DIAGNOSES_READ = "hcc_diagnoses_read"
MEMBERS_SCORED = "hcc_members_scored"


# A parsed member as it travels between steps, with where it came from (for the
# quarantine table): a tuple of primitives, which Beam encodes without pickle.
# (source_file, record_number, then Member's fields in order)
MemberTuple = tuple[str, int, str, int, str, str, str, bool, bool, bool]


def member_tuple(source_file: str, record_number: int, member: Member) -> MemberTuple:
    m = member
    return (source_file, record_number, m.member_id, m.age, m.sex, m.orec, m.dual,
            m.institutional, m.new_enrollee, m.snp)  # fmt: skip


def member_of(located: MemberTuple) -> Member:
    return Member(*located[2:])


def quarantine_row(
    record_type: str, raw: RawRecord, member_id: str | None, reason: str, detail: str | None
) -> dict[str, Any]:
    return {
        "record_type": record_type,
        "member_id": member_id,
        "reason": reason,
        "detail": detail,
        "source_file": raw.source_file,
        "record_number": raw.record_number,
    }


def _member_id(raw: RawRecord) -> str | None:
    value = (raw.fields or {}).get("member_id")
    return str(value).strip() or None if value is not None else None


def _unread_reason(raw: RawRecord) -> str:
    """A reader's own reason where it is one of scoring's (a FHIR Condition without an
    ICD-10-CM coding is ``invalid_icd10``), else ``unreadable_record``."""
    return raw.error if raw.error in HCC_QUARANTINE_REASONS else "unreadable_record"


def _unreadable(raw: RawRecord) -> str:
    # The reader's reason code and its generated detail; never field values.
    return f"{raw.error}: {raw.detail}" if raw.detail else str(raw.error)


def parse_member_batch(
    batch: list[RawRecord], payment_year: int
) -> Iterable[MemberTuple | beam.pvalue.TaggedOutput]:
    """A batch of records → located members, and quarantine rows tagged ``quarantine``."""
    for raw in batch:
        if raw.fields is None:
            row = quarantine_row("member", raw, None, "unreadable_record", _unreadable(raw))
            yield beam.pvalue.TaggedOutput("quarantine", row)
            continue
        try:
            member = parse_member(raw.fields, payment_year)
        except RecordError as exc:
            row = quarantine_row("member", raw, _member_id(raw), exc.reason, exc.detail)
            yield beam.pvalue.TaggedOutput("quarantine", row)
            continue
        yield member_tuple(raw.source_file, raw.record_number, member)


# A parsed diagnosis as it travels between steps: a tuple of primitives, which
# Beam encodes without pickle (the step that moves the most elements). The file
# is its index in the run's sorted list of diagnosis files, and the date of
# service a day number (days since 1970-01-01, what Parquet's date32 holds):
# (file index, record_number, code, day or None, encounter_id, source, eligible, reason)
DiagnosisTuple = tuple[int, int, str, int | None, str | None, str, bool, str]


def parse_diagnosis_batch(
    batch: list[RawRecord], payment_year: int, files: tuple[str, ...]
) -> Iterable[tuple[str, list[DiagnosisTuple]] | beam.pvalue.TaggedOutput]:
    """A batch of records → quarantine rows, and each member's diagnoses in the batch as one
    element, so the join moves about one element per member rather than per diagnosis."""
    known = load_payment_year(payment_year).mapped_codes
    file_index = {path: index for index, path in enumerate(files)}
    by_member: dict[str, list[DiagnosisTuple]] = {}
    for raw in batch:
        if raw.fields is None:
            row = quarantine_row("diagnosis", raw, None, _unread_reason(raw), _unreadable(raw))
            yield beam.pvalue.TaggedOutput("quarantine", row)
            continue
        try:
            d = parse_diagnosis(raw.fields, payment_year, known)
        except RecordError as exc:
            row = quarantine_row("diagnosis", raw, _member_id(raw), exc.reason, exc.detail)
            yield beam.pvalue.TaggedOutput("quarantine", row)
            continue
        day = (d.date_of_service - _EPOCH).days if d.date_of_service else None
        by_member.setdefault(d.member_id, []).append(
            (
                file_index[raw.source_file],
                raw.record_number,
                d.code,
                day,
                d.encounter_id,
                d.source,
                d.eligible,
                d.reason,
            )
        )
    yield from by_member.items()


def diagnosis_row(
    member_id: str, diagnosis: DiagnosisTuple, files: tuple[str, ...]
) -> tuple[Any, ...]:
    """A row of the diagnoses table, as a tuple in DIAGNOSES_SCHEMA's field order:
    two million of them cross a shuffle, and a tuple of primitives is half a dict's bytes."""
    index, record_number, code, day, encounter_id, source, eligible, reason = diagnosis
    return (
        files[index],
        record_number,
        member_id,
        code,
        day,
        encounter_id,
        source,
        eligible,
        reason,
    )


def hcc_rows(score: MemberScore) -> list[tuple[Any, ...]]:
    """Rows of the hcc table, as tuples in HCC_SCHEMA's field order."""
    return [
        (
            score.member_id,
            score.payment_year,
            model,
            f"HCC{hcc.hcc}",
            hcc.label,
            list(hcc.codes),
            hcc.coefficient,
            [f"HCC{parent}" for parent in hcc.dropped_by],
        )
        for model, result in score.models.items()
        for hcc in result.hccs
    ]


def risk_score_rows(score: MemberScore, blend_weights: dict[str, float]) -> list[tuple[Any, ...]]:
    """Rows of the risk_scores table, as tuples in RISK_SCORES_SCHEMA's field order."""
    return [
        (
            score.member_id,
            score.payment_year,
            model,
            result.segment,
            result.raw,
            result.normalized,
            result.adjusted,
            blend_weights[model],
            score.blended,
            json.dumps(result.variables, sort_keys=True),
        )
        for model, result in score.models.items()
    ]


class ScoreMembers(beam.DoFn):
    """One member_id with its member records and diagnoses → scores, HCCs and table rows,
    each output a list of one member's rows.

    A member_id with several member records quarantines all of them and their
    diagnoses (there is no safe way to pick one). Diagnoses of a member whose
    record was quarantined are quarantined as ``member_quarantined``; those of a
    member_id not in the member file as ``unknown_member``.
    """

    HCC = "hcc"
    DIAGNOSES = "diagnoses"
    QUARANTINE = "quarantine"

    def __init__(
        self,
        *,
        payment_year: int,
        diagnosis_files: tuple[str, ...],
        include_ineligible: bool = False,
    ) -> None:
        self._files = diagnosis_files
        self._payment_year = payment_year
        self._include_ineligible = include_ineligible
        self._scored = Metrics.counter("deidcode", MEMBERS_SCORED)

    def setup(self) -> None:
        self._year = load_payment_year(self._payment_year)
        self._weights = {name: t.blend_weight for name, t in self._year.models.items()}

    def process(self, element: tuple[str, dict[str, Iterable[Any]]]):  # type: ignore[override]
        member_id, grouped = element
        members = sorted(grouped["members"])  # by source file, then record number
        diagnoses = sorted(d for batch in grouped["diagnoses"] for d in batch)
        if len(members) != 1:
            if members:
                reason = "duplicate_member_id"
            else:
                reason = "member_quarantined" if list(grouped["rejected"]) else "unknown_member"
            for located in members:
                yield beam.pvalue.TaggedOutput(
                    self.QUARANTINE,
                    _quarantine(
                        "member",
                        located[0],
                        located[1],
                        member_id,
                        reason,
                        len(members),
                    ),
                )
            for diagnosis in diagnoses:
                yield beam.pvalue.TaggedOutput(
                    self.QUARANTINE,
                    _quarantine(
                        "diagnosis",
                        self._files[diagnosis[0]],
                        diagnosis[1],
                        member_id,
                        reason,
                        len(members),
                    ),
                )
            return
        member = member_of(members[0])
        codes = [d[2] for d in diagnoses if d[6] or self._include_ineligible]
        score = score_member(member, codes, self._year)
        self._scored.inc()
        # Each output is one list per member (the writers take rows in batches) of
        # tuples in schema order, which cross the shuffle lighter than dicts.
        yield risk_score_rows(score, self._weights)
        hccs = hcc_rows(score)
        if hccs:
            yield beam.pvalue.TaggedOutput(self.HCC, hccs)
        if diagnoses:
            rows = [diagnosis_row(member_id, d, self._files) for d in diagnoses]
            yield beam.pvalue.TaggedOutput(self.DIAGNOSES, rows)


def _quarantine(
    record_type: str,
    source_file: str,
    record_number: int,
    member_id: str,
    reason: str,
    n_members: int,
) -> dict[str, Any]:
    details = {
        "duplicate_member_id": f"{n_members} member records share this member_id",
        "member_quarantined": "the member's own record was quarantined",
        "unknown_member": "no member record has this member_id",
    }
    detail = details[reason]
    return {
        "record_type": record_type,
        "member_id": member_id,
        "reason": reason,
        "detail": detail,
        "source_file": source_file,
        "record_number": record_number,
    }
