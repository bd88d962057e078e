"""``date_shift``: move a date by the patient's keyed offset, in its own format."""

from __future__ import annotations

from transforms.core.spans import Span
from transforms.redaction.dates import shift_date_text
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)


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

    def release_value(
        self, value: str, *, phi_type: str, subtype: str, context: RedactionContext
    ) -> str | None:
        # A column value that is no date must not become a tag: it quarantines.
        return self.shift(value, context)

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        shifted = self.shift(original, context)
        if shifted is None:
            return self.fallback_template.format(phi_type=span.phi_type, subtype=span.subtype)
        return shifted
