"""``tag``: replace a span with a tag such as ``[NAME]``."""

from __future__ import annotations

from transforms.core.spans import Span
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)


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
