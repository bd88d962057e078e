"""``mask``: every visible character becomes one mask character, keeping the length."""

from __future__ import annotations

from transforms.core.spans import Span
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
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
