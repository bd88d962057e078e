"""Redaction: one small operator class per method, a registry, and a policy.

``redact`` is pure: given a note's text, its merged spans and a policy, it
returns the redacted text and an offset map, so spans found on the original
text (clinical entities, code evidence) can be projected onto the released one.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from transforms.phi_types import PHI_TYPES
from transforms.spans import Span


class OperatorConfigError(ValueError):
    """An operator's settings are invalid; the message names the operator and field."""


@dataclass(frozen=True)
class RedactionContext:
    """What an operator may know about the note besides the span itself."""

    note_id: str
    patient_id: str
    # The patient's date offset in days, when the run has a date-shift key.
    date_shift_days: int | None = None
    # The year partial dates (3/14, March 14) are read in: the note's year if known.
    reference_year: int | None = None
    # Sub-key for the hash operator.
    hash_key: bytes | None = None
    # The patient's own surrogate key: one patient's mapping says nothing of another's.
    surrogate_key: bytes | None = None


class Operator(ABC):
    """Replaces the text of one PHI span."""

    name: ClassVar[str]

    def validate(self) -> None:  # noqa: B027 - operators without settings need no checks
        """Raise ``OperatorConfigError`` if the operator's settings are unusable."""

    @abstractmethod
    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        """Return the replacement text for ``original``, the span's text."""


OPERATOR_REGISTRY: dict[str, type[Operator]] = {}


def register_operator(name: str) -> Callable[[type[Operator]], type[Operator]]:
    def decorate(cls: type[Operator]) -> type[Operator]:
        cls.name = name
        OPERATOR_REGISTRY[name] = cls
        return cls

    return decorate


@register_operator("tag")
class TagOperator(Operator):
    """Replace the span with a tag such as ``[NAME]``."""

    def __init__(self, *, template: str = "[{phi_type}]") -> None:
        self.template = template

    def validate(self) -> None:
        try:
            self.template.format(phi_type="NAME", subtype="PATIENT")
        except (KeyError, IndexError, ValueError) as exc:
            raise OperatorConfigError(
                f"tag.template {self.template!r} may use only {{phi_type}} and {{subtype}} ({exc})"
            ) from None

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        return self.template.format(phi_type=span.phi_type, subtype=span.subtype)


def build_operator(spec: Mapping[str, Any]) -> Operator:
    """Build and validate an operator from ``{"type": NAME, ...settings}``."""
    import transforms.operators  # noqa: F401 - registers the operators beyond tag

    settings = dict(spec)
    kind = settings.pop("type", None)
    if kind not in OPERATOR_REGISTRY:
        raise OperatorConfigError(
            f"unknown operator type {kind!r}; known: {', '.join(sorted(OPERATOR_REGISTRY))}"
        )
    try:
        operator = OPERATOR_REGISTRY[kind](**settings)
    except TypeError as exc:
        raise OperatorConfigError(f"operator {kind!r}: invalid settings ({exc})") from None
    operator.validate()
    return operator


@dataclass(frozen=True)
class RedactionPolicy:
    """Which operator handles a span: by subtype first, then phi_type, then the default."""

    default: Operator
    by_phi_type: Mapping[str, Operator]
    by_subtype: Mapping[str, Operator]

    @classmethod
    def from_config(
        cls,
        default: Mapping[str, Any],
        by_phi_type: Mapping[str, Mapping[str, Any]],
        by_subtype: Mapping[str, Mapping[str, Any]],
    ) -> RedactionPolicy:
        unknown = sorted(set(by_phi_type) - set(PHI_TYPES))
        if unknown:
            raise OperatorConfigError(f"unknown phi_type(s) in redaction.phi_types: {unknown}")
        return cls(
            default=build_operator(default),
            by_phi_type={k: build_operator(v) for k, v in by_phi_type.items()},
            by_subtype={k.upper(): build_operator(v) for k, v in by_subtype.items()},
        )

    def operator_for(self, span: Span) -> Operator:
        return (
            self.by_subtype.get(span.subtype) or self.by_phi_type.get(span.phi_type) or self.default
        )


@dataclass(frozen=True, slots=True)
class OffsetSegment:
    """A replaced region: ``original[orig_start:orig_end]`` became ``deid[deid_start:deid_end]``."""

    orig_start: int
    orig_end: int
    deid_start: int
    deid_end: int


@dataclass(frozen=True)
class RedactionResult:
    text: str
    offset_map: tuple[OffsetSegment, ...]


def redact(
    text: str, spans: Sequence[Span], policy: RedactionPolicy, context: RedactionContext
) -> RedactionResult:
    """Replace each span (sorted, non-overlapping, as ``merge_spans`` returns) in ``text``."""
    pieces: list[str] = []
    segments: list[OffsetSegment] = []
    cursor = 0
    out_len = 0
    for span in spans:
        if span.start < cursor:
            raise ValueError("redact() needs sorted, non-overlapping spans; call merge_spans first")
        if span.end > len(text):
            raise ValueError(f"span [{span.start}, {span.end}) is beyond the text")
        kept = text[cursor : span.start]
        pieces.append(kept)
        out_len += len(kept)
        replacement = policy.operator_for(span).replace(text[span.start : span.end], span, context)
        segments.append(OffsetSegment(span.start, span.end, out_len, out_len + len(replacement)))
        pieces.append(replacement)
        out_len += len(replacement)
        cursor = span.end
    pieces.append(text[cursor:])
    return RedactionResult(text="".join(pieces), offset_map=tuple(segments))


def _last_segment_at(position: int, offset_map: Sequence[OffsetSegment]) -> OffsetSegment | None:
    """The last replaced segment that starts at or before ``position``."""
    index = bisect.bisect_right([seg.orig_start for seg in offset_map], position) - 1
    return offset_map[index] if index >= 0 else None


def project_span(start: int, end: int, offset_map: Sequence[OffsetSegment]) -> tuple[int, int]:
    """Project an end-exclusive span of the original text onto the redacted text.

    A span that starts or ends inside a replaced region is widened to cover
    that whole replacement, so the projection never cuts a tag or surrogate.
    """
    if not 0 <= start < end:
        raise ValueError(f"invalid span [{start}, {end})")
    first = _last_segment_at(start, offset_map)
    if first is None:
        new_start = start
    elif start < first.orig_end:
        new_start = first.deid_start
    else:
        new_start = first.deid_end + (start - first.orig_end)
    last_char = end - 1
    last = _last_segment_at(last_char, offset_map)
    if last is None:
        new_end = end
    elif last_char < last.orig_end:
        new_end = last.deid_end
    else:
        new_end = last.deid_end + (last_char - last.orig_end) + 1
    return new_start, new_end
