"""``surrogate``: realistic, consistent replacements with the original's shape."""

from __future__ import annotations

from collections.abc import Iterable

from transforms.core.spans import Span
from transforms.core.text import fold
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)
from transforms.redaction.operators.date_shift import DateShiftOperator
from transforms.redaction.operators.generalize import GeneralizeOperator
from transforms.redaction.surrogates import bundled_name_pools, surrogate_text

# Words that identify no one and make a surrogate read naturally when kept:
# street and facility words, web name parts, titles. Override with keep_words.
DEFAULT_SURROGATE_KEEP_WORDS = (
    "and",
    "apt",
    "ave",
    "avenue",
    "blvd",
    "boulevard",
    "center",
    "centre",
    "clinic",
    "com",
    "court",
    "ct",
    "dr",
    "drive",
    "edu",
    "gov",
    "health",
    "hospital",
    "http",
    "https",
    "lane",
    "ln",
    "md",
    "medical",
    "miss",
    "mr",
    "mrs",
    "ms",
    "net",
    "of",
    "org",
    "pkwy",
    "pl",
    "place",
    "rd",
    "road",
    "st",
    "street",
    "suite",
    "the",
    "way",
    "www",
)


@register_operator("surrogate")
class SurrogateOperator(Operator):
    """Realistic, consistent replacements with the original's shape.

    Names and other values go through the patient's keyed token bijection
    (``transforms.redaction.surrogates``); dates are shifted by the patient's offset;
    ages of 90 and over are generalised (younger ages are not PHI and stay).
    Outside names, words in ``keep_words`` stay. A value made only of them, or
    one with nothing to replace, is tagged.
    """

    def __init__(
        self,
        *,
        keep_words: Iterable[str] = DEFAULT_SURROGATE_KEEP_WORDS,
        age_phrase: str = "90+",
        fallback_template: str = "[{phi_type}]",
    ) -> None:
        self.keep_words = frozenset(fold(word) for word in keep_words)
        self.fallback_template = fallback_template
        self._dates = DateShiftOperator(fallback_template=fallback_template)
        self._ages = GeneralizeOperator(age_phrase=age_phrase, fallback_template=fallback_template)

    def validate(self) -> None:
        bad = sorted(word for word in self.keep_words if not word.isalnum())
        if bad:
            raise OperatorConfigError(f"surrogate.keep_words must be single words, not {bad}")
        bundled_name_pools()

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        if span.phi_type == "DATE":
            return self._dates.replace(original, span, context)
        if span.phi_type == "AGE":
            return self._ages.replace(original, span, context)
        if context.surrogate_key is None:
            raise OperatorConfigError("surrogate needs a key; none was given to the run")
        # Keep words make addresses and facilities read naturally; in a name they
        # would leak it ("Lane", "Way" and "Miss" are surnames too).
        keep = frozenset() if span.phi_type == "NAME" else self.keep_words
        replaced = surrogate_text(
            context.surrogate_key, original, bundled_name_pools(), keep_words=keep
        )
        if fold(replaced) == fold(original):
            return self.fallback_template.format(phi_type=span.phi_type, subtype=span.subtype)
        return replaced
