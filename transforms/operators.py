"""Redaction operators beyond ``tag``: mask, remove, hash, date_shift, generalize, surrogate.

Each is a small class registered under a stable name, with its own ``validate``.
Keyed operators read their key material and the patient's date offset from the
``RedactionContext``; they never see the run key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Iterable

from transforms.date_shift import shift_date_text
from transforms.redaction import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)
from transforms.spans import Span
from transforms.surrogates import bundled_name_pools, fold, surrogate_text

# Three-digit ZIP prefixes whose areas held 20,000 or fewer people, which Safe
# Harbor says to release as 000 "according to the current publicly available
# data from the Bureau of the Census" (45 CFR 164.514(b)(2)(i)(B)).
#
# 2000 Census: the 17 prefixes listed in HHS, "Guidance Regarding Methods for
# De-identification of PHI in Accordance with the HIPAA Privacy Rule" (2012), 3.3.
HHS_2000_RESTRICTED_ZIP3 = (
    "036", "059", "063", "102", "203", "556", "692", "790", "821",
    "823", "830", "831", "878", "879", "884", "890", "893",
)  # fmt: skip
# 2010 Census ZCTA populations: the 14 prefixes published with Microsoft's
# Tools-for-Health-Data-Anonymization (docs "Zipcode De-Identification",
# restrictedZipCodeTabulationAreas). HHS has published no newer list.
CENSUS_2010_RESTRICTED_ZIP3 = (
    "036", "059", "102", "203", "205", "369", "556", "692", "821",
    "823", "878", "879", "884", "893",
)  # fmt: skip
# The default is the union: a prefix small in either census is suppressed.
# Over-suppressing a prefix costs a little utility; under-suppressing leaks.
DEFAULT_RESTRICTED_ZIP3 = tuple(
    sorted(set(HHS_2000_RESTRICTED_ZIP3) | set(CENSUS_2010_RESTRICTED_ZIP3))
)


@register_operator("mask")
class MaskOperator(Operator):
    """Replace every character but white space with ``char``, keeping the length."""

    def __init__(self, *, char: str = "*") -> None:
        self.char = char

    def validate(self) -> None:
        if len(self.char) != 1 or self.char.isspace():
            raise OperatorConfigError("mask.char must be one visible character")

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        return "".join(ch if ch.isspace() else self.char for ch in original)


@register_operator("remove")
class RemoveOperator(Operator):
    """Delete the span's text."""

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        return ""


@register_operator("hash")
class HashOperator(Operator):
    """Keyed HMAC-SHA256 of the normalised value, truncated.

    With ``format_preserving``, each digit becomes a digit and each letter a
    letter of the same case, separators stay: ``MRN 12-345`` keeps its shape.
    The same value gives the same hash in every note, patient and run under one key.
    """

    def __init__(self, *, length: int = 12, format_preserving: bool = False) -> None:
        self.length = length
        self.format_preserving = format_preserving

    def validate(self) -> None:
        if not 4 <= self.length <= 64:
            raise OperatorConfigError("hash.length must be between 4 and 64")

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        if context.hash_key is None:
            raise OperatorConfigError("hash needs a key; none was given to the run")
        normalised = re.sub(r"\s+", " ", original.strip()).upper()
        digest = hmac.new(context.hash_key, normalised.encode("utf-8"), hashlib.sha256).digest()
        if not self.format_preserving:
            return digest.hex()[: self.length]
        stream = _digest_stream(context.hash_key, normalised)
        out = []
        for ch in original:
            if ch.isdigit():
                out.append(string.digits[next(stream) % 10])
            elif ch.isalpha():
                letter = string.ascii_lowercase[next(stream) % 26]
                out.append(letter.upper() if ch.isupper() else letter)
            else:
                out.append(ch)
        return "".join(out)


def _digest_stream(key: bytes, value: str) -> Iterable[int]:
    counter = 0
    while True:
        block = hmac.new(key, f"{counter}:{value}".encode(), hashlib.sha256).digest()
        yield from block
        counter += 1


@register_operator("date_shift")
class DateShiftOperator(Operator):
    """Move a date by the patient's offset, in its own format; unparsable dates are tagged."""

    def __init__(self, *, fallback_template: str = "[{phi_type}]") -> None:
        self.fallback_template = fallback_template

    def shift(self, original: str, context: RedactionContext) -> str | None:
        """The shifted date, or None where ``original`` is no date it can read."""
        if context.date_shift_days is None:
            raise OperatorConfigError("date_shift needs a key; none was given to the run")
        shifted = shift_date_text(
            original, context.date_shift_days, reference_year=context.reference_year
        )
        return None if shifted == original else shifted

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        shifted = self.shift(original, context)
        if shifted is None:
            return self.fallback_template.format(phi_type=span.phi_type, subtype=span.subtype)
        return shifted


@register_operator("generalize")
class GeneralizeOperator(Operator):
    """Safe Harbor generalisation: ages of 90 and over, dates to years, ZIP codes to ZIP3.

    Other types, and values it cannot read, get the fallback tag.
    """

    def __init__(
        self,
        *,
        age_phrase: str = "90+",
        restricted_zip3: Iterable[str] = DEFAULT_RESTRICTED_ZIP3,
        fallback_template: str = "[{phi_type}]",
    ) -> None:
        self.age_phrase = age_phrase
        self.restricted_zip3 = frozenset(restricted_zip3)
        self.fallback_template = fallback_template

    def validate(self) -> None:
        bad = sorted(z for z in self.restricted_zip3 if not re.fullmatch(r"\d{3}", z))
        if bad:
            raise OperatorConfigError(f"generalize.restricted_zip3 has non-ZIP3 values {bad}")

    def generalize(self, original: str, phi_type: str, subtype: str) -> str | None:
        """The generalised value, or None where the type or value is not one it handles."""
        if phi_type == "AGE":
            digits = re.search(r"\d+", original)
            if digits is None:
                return None
            return self.age_phrase if int(digits.group()) >= 90 else original
        if phi_type == "DATE":
            year = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", original)
            return year.group() if year else None
        if subtype == "ZIP":
            zip3 = re.match(r"\s*(\d{3})\d{2}", original)
            if zip3 is None:
                return None
            return "000" if zip3.group(1) in self.restricted_zip3 else zip3.group(1)
        return None

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        generalized = self.generalize(original, span.phi_type, span.subtype)
        if generalized is None:
            return self.fallback_template.format(phi_type=span.phi_type, subtype=span.subtype)
        return generalized


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
    (``transforms.surrogates``); dates are shifted by the patient's offset;
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
