"""``generalize``: Safe Harbor generalisation of ages, dates and ZIP codes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from transforms.core.spans import Span
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)

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

    def release_value(
        self, value: str, *, phi_type: str, subtype: str, context: RedactionContext
    ) -> str | None:
        return self.generalize(value, phi_type, subtype)

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        generalized = self.generalize(original, span.phi_type, span.subtype)
        if generalized is None:
            return self.fallback_template.format(phi_type=span.phi_type, subtype=span.subtype)
        return generalized
