"""The ``Span`` value type and the pure function that resolves overlapping spans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# When two overlapping spans have the same score, the more sensitive type wins:
# an ID or contact detail mislabelled as a date would get the weaker operator.
TYPE_PRECEDENCE: dict[str, int] = {
    phi_type: rank
    for rank, phi_type in enumerate(
        ("ID", "CONTACT", "NAME", "LOCATION", "DATE", "AGE", "PROFESSION", "OTHER")
    )
}


@dataclass(frozen=True, slots=True)
class Span:
    """A detected PHI span with end-exclusive character offsets into the original text."""

    start: int
    end: int
    phi_type: str
    subtype: str
    score: float
    detector: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets [{self.start}, {self.end})")
        if self.phi_type not in TYPE_PRECEDENCE:
            raise ValueError(f"unknown phi_type {self.phi_type!r}")

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "phi_type": self.phi_type,
            "subtype": self.subtype,
            "score": self.score,
            "detector": self.detector,
        }


def _winner_rank(span: Span) -> tuple[float, int, int, str, str]:
    """Sort key: the smallest key wins the type of a merged group."""
    return (
        -span.score,
        TYPE_PRECEDENCE[span.phi_type],
        -(span.end - span.start),
        span.subtype,
        span.detector,
    )


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Resolve overlapping spans into a sorted list of non-overlapping spans.

    Policy (documented in the README, "Span precedence"):

    * Coverage is the union. Overlapping spans merge into one span from the
      smallest start to the largest end, so merging never un-redacts a
      character that any detector flagged (fail closed, favour recall).
    * The merged span takes ``phi_type`` from the winning member: highest
      score, then the more sensitive type
      (ID > CONTACT > NAME > LOCATION > DATE > AGE > PROFESSION > OTHER),
      then the longer span, then names, so the result is deterministic.
    * Its ``subtype`` is the winner's, unless another member of the same type
      has a specific subtype (``ZIP`` rather than ``LOCATION``): then the best
      such member's, so subtype operators keep working.
    * ``score`` is the maximum of the members; ``detector`` lists every
      contributing detector, sorted and joined by ``+``.
    * Spans that merely touch (``a.end == b.start``) stay separate.
    """
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    groups: list[list[Span]] = []
    group_end = -1
    for span in ordered:
        if groups and span.start < group_end:
            groups[-1].append(span)
            group_end = max(group_end, span.end)
        else:
            groups.append([span])
            group_end = span.end
    return [_merge_group(group) for group in groups]


def _merge_group(group: list[Span]) -> Span:
    if len(group) == 1:
        return group[0]
    winner = min(group, key=_winner_rank)
    # A specific subtype (ZIP, MRN) beats a generic one (LOCATION, ID) of the same
    # type, so subtype-specific operators still apply when a model covers the span.
    specific = [s for s in group if s.phi_type == winner.phi_type and s.subtype != s.phi_type]
    subtype = min(specific, key=_winner_rank).subtype if specific else winner.subtype
    return Span(
        start=min(s.start for s in group),
        end=max(s.end for s in group),
        phi_type=winner.phi_type,
        subtype=subtype,
        score=max(s.score for s in group),
        detector="+".join(sorted({s.detector for s in group})),
    )
