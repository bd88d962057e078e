"""The ``Operator`` interface, the context an operator may read, and the operator registry.

Operators register themselves under a stable name when their module is imported
(``transforms.redaction.operators`` imports every built-in one). The registry
lives here, below the operators, so nothing has to import lazily to close a loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from transforms.core.registry import name_registrar
from transforms.core.spans import Span
from transforms.redaction.surrogates import SurrogateBook


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
    # The surrogates reserved for the patient's words (the patient step reserves every
    # word of every note at once, against the ledger). None: ``redact`` reserves
    # the words of the one text it is given.
    surrogate_book: SurrogateBook | None = None


class Operator(ABC):
    """Replaces the text of one PHI span."""

    name: ClassVar[str]

    def validate(self) -> None:  # noqa: B027 - operators without settings need no checks
        """Raise ``OperatorConfigError`` if the operator's settings are unusable."""

    @abstractmethod
    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        """Return the replacement text for ``original``, the span's text."""

    def words_to_reserve(self, original: str, span: Span) -> set[str]:
        """The words whose surrogates ``replace`` will read from the patient's book."""
        return set()

    def release_value(
        self, value: str, *, phi_type: str, subtype: str, context: RedactionContext
    ) -> str | None:
        """A whole structured column value as released, or None where the operator
        cannot read it (the column release then quarantines the note).

        The default treats the value as one span of ``phi_type``/``subtype``;
        operators whose fallback would hide an unreadable value override it.
        """
        span = Span(0, len(value), phi_type, subtype, 1.0, "column")
        return self.replace(value, span, context)


OPERATOR_REGISTRY: dict[str, type[Operator]] = {}


# Class decorator: register an operator class under a stable name.
register_operator = name_registrar(OPERATOR_REGISTRY, "operator")
