"""``redact``: apply a policy's operators to a note's merged spans, keeping an offset map.

Pure: given a note's text, its merged spans and a policy, it returns the
redacted text and an offset map (``transforms.core.offsets``), so spans
found on the original text (clinical entities, code evidence) can be projected
onto the released one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from transforms.core.offsets import OffsetSegment
from transforms.core.spans import Span
from transforms.redaction.operator import RedactionContext
from transforms.redaction.policy import RedactionPolicy
from transforms.redaction.surrogates import SurrogateBook


@dataclass(frozen=True)
class RedactionResult:
    text: str
    offset_map: tuple[OffsetSegment, ...]


def words_to_reserve(text: str, spans: Sequence[Span], policy: RedactionPolicy) -> set[str]:
    """The words of ``text``'s spans whose surrogates the policy's operators will read."""
    words: set[str] = set()
    for span in spans:
        words |= policy.operator_for(span).words_to_reserve(text[span.start : span.end], span)
    return words


def _with_book(
    text: str, spans: Sequence[Span], policy: RedactionPolicy, context: RedactionContext
) -> RedactionContext:
    """The context with a surrogate book: the one given (the patient step reserves every
    note of a patient against the ledger), else one reserved for this text alone."""
    if context.surrogate_book is not None or context.surrogate_key is None:
        return context
    words = words_to_reserve(text, spans, policy)
    if not words:
        return context
    book = SurrogateBook.for_words(context.surrogate_key, words)
    return dataclasses.replace(context, surrogate_book=book)


def redact(
    text: str, spans: Sequence[Span], policy: RedactionPolicy, context: RedactionContext
) -> RedactionResult:
    """Replace each span (sorted, non-overlapping, as ``merge_spans`` returns) in ``text``."""
    context = _with_book(text, spans, policy, context)
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
