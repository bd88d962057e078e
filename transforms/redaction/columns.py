"""Structured columns: releasing each unmapped input column under its policy.

Pure functions, used by the note step (``transforms.deid.note``). ``deid_text`` columns are not
handled here: they go through the detectors and the redaction policy like the
note text. A value that its policy cannot release (a date that does not
parse, a ZIP that is not five digits) raises ``ColumnValueError``, and the
note is quarantined: releasing it unchanged would leak, dropping it silently
would hide a data problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.config import ColumnPolicy
from schemas.phi_types import PHI_TYPES
from transforms.core.spans import Span
from transforms.redaction.operator import Operator, OperatorConfigError, RedactionContext
from transforms.redaction.operators.date_shift import DateShiftOperator
from transforms.redaction.operators.generalize import GeneralizeOperator
from transforms.redaction.operators.hash import HashOperator
from transforms.redaction.operators.surrogate import SurrogateOperator

# What a generalised column holds, as the (phi_type, subtype) the operator reads.
_GENERALIZE_KINDS = {"date": ("DATE", "DATE"), "zip": ("LOCATION", "ZIP"), "age": ("AGE", "AGE")}


class ColumnValueError(ValueError):
    """A column value cannot be released under its policy. Names the column, never the value."""

    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"column {column!r}: {problem}")
        self.column = column


@dataclass(frozen=True)
class ColumnRelease:
    """The operators behind each column policy, built and validated once."""

    policies: Mapping[str, ColumnPolicy]
    operators: Mapping[str, Operator]

    @classmethod
    def from_policies(cls, policies: Mapping[str, ColumnPolicy]) -> ColumnRelease:
        operators: dict[str, Operator] = {}
        for column, policy in policies.items():
            try:
                operator = _build(policy)
                if operator is not None:
                    operator.validate()
                    operators[column] = operator
            except OperatorConfigError as exc:
                raise OperatorConfigError(f"input.column_policies.{column}: {exc}") from None
            except TypeError as exc:
                raise OperatorConfigError(
                    f"input.column_policies.{column}: invalid options ({exc})"
                ) from None
        return cls(policies, operators)

    def text_columns(self) -> list[str]:
        return [c for c, policy in self.policies.items() if policy.type == "deid_text"]

    def words_to_reserve(self, column: str, value: str | None) -> set[str]:
        """The words of a column value whose surrogates its operator will read."""
        policy = self.policies[column]
        if value is None or not value.strip() or column not in self.operators:
            return set()
        phi_type, subtype = _value_type(policy)
        span = Span(0, len(value), phi_type, subtype, 1.0, "column")
        return self.operators[column].words_to_reserve(value, span)

    def release(self, column: str, value: str | None, context: RedactionContext) -> str | None:
        """The value of a non-text column as released; None stays None."""
        policy = self.policies[column]
        if value is None or not value.strip() or policy.type == "keep":
            return value
        if policy.type in ("drop", "deid_text"):
            raise ValueError(f"column {column!r} ({policy.type}) is not released by release()")
        phi_type, subtype = _value_type(policy)
        released = self.operators[column].release_value(
            value, phi_type=phi_type, subtype=subtype, context=context
        )
        if released is None:
            raise ColumnValueError(column, f"value cannot be read for {policy.type}")
        return released


def _value_type(policy: ColumnPolicy) -> tuple[str, str]:
    """The (phi_type, subtype) a column's values are read as by its operator."""
    if policy.type == "date_shift":
        return "DATE", "DATE"
    if policy.type == "generalize":
        assert policy.kind is not None
        return _GENERALIZE_KINDS[policy.kind]
    return policy.phi_type, policy.phi_type


def _build(policy: ColumnPolicy) -> Operator | None:
    if policy.type == "hash":
        return HashOperator(**policy.options)
    if policy.type == "date_shift":
        return DateShiftOperator()
    if policy.type == "generalize":
        return GeneralizeOperator(**policy.options)
    if policy.type == "surrogate":
        if policy.phi_type not in PHI_TYPES:
            raise OperatorConfigError(f"phi_type {policy.phi_type!r} is not one of {PHI_TYPES}")
        return SurrogateOperator(**policy.options)
    return None
