"""The clinical entity value types, as they flow from the entity step to the note step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assertion:
    """What the ConText rules say of one entity (``transforms.entities.assertion``)."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    section: str | None = None
    rules: tuple[str, ...] = ()  # the triggers and section rules that fired


@dataclass(frozen=True, slots=True)
class ClinicalEntity:
    """A problem or drug found in a note's original text, with its assertion.

    Offsets are end-exclusive characters of the original text; the note step
    projects them onto the redacted text before anything is written.
    """

    start: int
    end: int
    label: str
    score: float
    model: str  # name and version
    assertion: Assertion = Assertion()

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid entity offsets [{self.start}, {self.end})")
