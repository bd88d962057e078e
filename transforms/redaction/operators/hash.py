"""``hash``: keyed HMAC-SHA256 of the normalised value, optionally format-preserving."""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Iterable

from transforms.core.spans import Span
from transforms.redaction.operator import (
    Operator,
    OperatorConfigError,
    RedactionContext,
    register_operator,
)


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
