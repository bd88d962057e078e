"""How words are compared across the product: one normal form."""

from __future__ import annotations

import unicodedata


def fold(token: str) -> str:
    """The normal form a token is compared in: accents stripped, lower case."""
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
