"""``remove``: delete the span's text."""

from __future__ import annotations

from transforms.core.spans import Span
from transforms.redaction.operator import Operator, RedactionContext, register_operator


@register_operator("remove")
class RemoveOperator(Operator):
    """Delete the span's text."""

    def replace(self, original: str, span: Span, context: RedactionContext) -> str:
        return ""
