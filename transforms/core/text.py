"""How words are compared across the product: one normal form."""

from __future__ import annotations

import unicodedata


def fold(token: str) -> str:
    """The normal form a token is compared in: accents stripped, lower case."""
    if token.isascii():  # most clinical text: nothing to strip
        return token.lower()
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
