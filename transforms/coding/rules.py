"""ICD-10-CM conventions the coder applies after scoring, as plain functions.

- Assertion decides what is coded: a negated, uncertain, hypothetical or
  family mention is not coded unless configured; a historical one becomes a
  personal-history code where one exists (``history_codes.json``).
- The most specific code wins: an "unspecified" code is dropped when a more
  specific code of its category is suggested for the same note.
- A 7th character follows the text: "subsequent" and "sequela" choose the D
  and S variants of an injury code, otherwise the initial encounter (A).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from transforms.coding.codeset import CodeSet
from transforms.core.entities import Assertion

HISTORY_CODES_FILE = Path(__file__).with_name("data") / "history_codes.json"


class CodingRuleError(ValueError):
    """A coding rule file or setting cannot work; the message names it."""


class HistoricalPolicy(StrEnum):
    HISTORY_CODE = "history_code"  # code a past condition as Z85-Z87 (or I25.2) only
    CONDITION = "condition"  # code it as the condition itself, as CodiEsp's gold does


class Decision(StrEnum):
    CODE = "code"
    HISTORY = "history"
    SKIP = "skip"


@dataclass(frozen=True)
class AssertionPolicy:
    include_negated: bool = False
    include_uncertain: bool = False
    historical: HistoricalPolicy = HistoricalPolicy.HISTORY_CODE

    def decide(self, assertion: Assertion) -> Decision:
        # A family member's or a hypothetical condition is never the patient's.
        if assertion.family or assertion.hypothetical:
            return Decision.SKIP
        if assertion.negated and not self.include_negated:
            return Decision.SKIP
        if assertion.uncertain and not self.include_uncertain:
            return Decision.SKIP
        if assertion.historical and self.historical is HistoricalPolicy.HISTORY_CODE:
            return Decision.HISTORY
        return Decision.CODE


@dataclass(frozen=True)
class HistoryRule:
    prefix: str
    history_code: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryRule:
        return cls(prefix=str(data["prefix"]).upper(), history_code=str(data["history_code"]))

    def to_dict(self) -> dict[str, str]:
        return {"prefix": self.prefix, "history_code": self.history_code}


@dataclass(frozen=True)
class HistoryCodes:
    rules: tuple[HistoryRule, ...]

    @classmethod
    def load(cls, code_set: CodeSet, path: Path = HISTORY_CODES_FILE) -> HistoryCodes:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rules = tuple(HistoryRule.from_dict(rule) for rule in data["rules"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CodingRuleError(f"history code rules {path}: {exc}") from None
        unknown = sorted({r.history_code for r in rules if r.history_code not in code_set})
        if unknown:
            raise CodingRuleError(f"history code rules {path}: not billable codes {unknown}")
        # Longest prefix first, so that I21 wins over I.
        return cls(tuple(sorted(rules, key=lambda r: (-len(r.prefix), r.prefix))))

    def history_code(self, code: str) -> str | None:
        # A code that already names a past condition (I25.2 old MI, Z86.711) stays.
        if code in self._history_codes():
            return code
        for rule in self.rules:
            if code.startswith(rule.prefix):
                return rule.history_code
        return None

    def _history_codes(self) -> frozenset[str]:
        return frozenset(rule.history_code for rule in self.rules)


def is_unspecified(title: str) -> bool:
    lowered = title.lower()
    return "unspecified" in lowered or "without complications" in lowered


def drop_unspecified_siblings(codes: list[str], code_set: CodeSet) -> list[str]:
    """A note's suggested ``codes`` less each unspecified code whose category has a
    more specific one among them (E11.9 goes when E11.22 is there), order kept."""
    specific = {code[:3] for code in codes if not is_unspecified(code_set.entries[code].title)}
    return [
        code
        for code in codes
        if not (is_unspecified(code_set.entries[code].title) and code[:3] in specific)
    ]


_SEQUELA = re.compile(r"\b(sequela[es]?|late effects?)\b", re.IGNORECASE)
_SUBSEQUENT = re.compile(
    r"\b(subsequent (encounter|visit)|follow[- ]?up|routine healing)\b", re.IGNORECASE
)


def encounter_character(context: str) -> str:
    """The 7th character an injury mention's context asks for: A, D or S."""
    if _SEQUELA.search(context):
        return "S"
    if _SUBSEQUENT.search(context):
        return "D"
    return "A"


def with_seventh_character(code: str, character: str, code_set: CodeSet) -> str:
    """The variant of a 7-character injury code with ``character`` in 7th place,
    where it is billable; otherwise ``code`` unchanged."""
    if len(code.replace(".", "")) != 7 or not code.startswith(("S", "T")):
        return code
    variant = code[:-1] + character
    return variant if variant in code_set else code
