"""Re-identification risk of a release, as plain functions: k-anonymity of its
quasi-identifiers, and the PHI the detectors are expected to have missed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SmallGroup:
    """Patients who share one combination of quasi-identifier values with fewer than k."""

    values: tuple[str | None, ...]
    patients: tuple[str, ...]


@dataclass(frozen=True)
class KAnonymity:
    columns: tuple[str, ...]
    k: int
    # The release's k: the size of its smallest group (None: no records).
    smallest_group: int | None
    groups: int
    records: int
    small_groups: tuple[SmallGroup, ...]

    @property
    def patients_below_k(self) -> list[str]:
        return sorted({p for group in self.small_groups for p in group.patients})


def k_anonymity(
    records: Iterable[tuple[str, tuple[str | None, ...]]], columns: tuple[str, ...], *, k: int
) -> KAnonymity:
    """Group ``(patient pseudonym, quasi-identifier values)`` records by their values.

    A group's size is its number of distinct patients: one patient with many notes is
    still one person to an adversary. A patient whose values differ across notes is
    in each of those groups.
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    groups: dict[tuple[str | None, ...], set[str]] = defaultdict(set)
    distinct = set(records)
    for patient, values in distinct:
        if len(values) != len(columns):
            raise ValueError("every record needs one value per quasi-identifier column")
        groups[values].add(patient)
    small = tuple(
        SmallGroup(values, tuple(sorted(patients)))
        for values, patients in sorted(groups.items(), key=lambda item: _sortable(item[0]))
        if len(patients) < k
    )
    return KAnonymity(
        columns=columns,
        k=k,
        smallest_group=min((len(p) for p in groups.values()), default=None),
        groups=len(groups),
        records=len(distinct),
        small_groups=small,
    )


def _sortable(values: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, value or "") for value in values)


@dataclass(frozen=True)
class MissedPhi:
    """Per PHI type: tokens the run redacted, the recall it is taken at, and the
    tokens expected to remain unredacted per 1,000 notes."""

    phi_type: str
    detected_tokens: int
    recall: float | None
    missed_per_1000_notes: float | None


def expected_missed_tokens(
    detected_tokens: Mapping[str, int],
    recall: Mapping[str, float],
    *,
    notes: int,
    fallback: str = "ALL",
) -> list[MissedPhi]:
    """If a detector set finds a share ``r`` of the PHI tokens, the ``d`` it found
    imply ``d / r`` in all, so ``d (1 - r) / r`` were missed. ``recall`` maps PHI types
    to token recall; a type without its own figure takes ``recall[fallback]``."""
    rows = []
    for phi_type in sorted(detected_tokens):
        found = detected_tokens[phi_type]
        rate = recall.get(phi_type, recall.get(fallback))
        if rate is None or rate <= 0 or notes == 0:
            rows.append(MissedPhi(phi_type, found, rate, None))
            continue
        missed = found * (1.0 - rate) / rate
        rows.append(MissedPhi(phi_type, found, rate, 1000.0 * missed / notes))
    return rows
