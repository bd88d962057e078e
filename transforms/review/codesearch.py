"""ICD-10-CM search for the chart page: by code prefix or by words, over the
bundled billable code set. Plain Python over the code list: no SQL is built
from what a coder types."""

from __future__ import annotations

import re
from dataclasses import dataclass

from transforms.coding.codeset import CodeSet

_CODE_LIKE = re.compile(r"[A-Z][0-9][0-9A-Z]{0,5}")
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_CHARS = 100


@dataclass(frozen=True)
class CodeHit:
    code: str
    title: str


class CodeSearch:
    def __init__(self, code_set: CodeSet) -> None:
        self._rows = sorted(
            (code.replace(".", ""), code, entry.title, " ".join(entry.terms).lower())
            for code, entry in code_set.entries.items()
        )
        self.billable = frozenset(code_set.entries)

    def search(self, query: str, *, limit: int = 20) -> list[CodeHit]:
        query = query.strip()[:MAX_QUERY_CHARS]
        compact = query.upper().replace(".", "")
        if _CODE_LIKE.fullmatch(compact):
            hits = [(c, t) for bare, c, t, _ in self._rows if bare.startswith(compact)]
        else:
            words = _WORD.findall(query.lower())
            if not words:
                return []
            hits = [(c, t) for _, c, t, terms in self._rows if all(w in terms for w in words)]
            # Titles that hold the words come first, shorter (less specific) ones first.
            hits.sort(key=lambda hit: (not all(w in hit[1].lower() for w in words), len(hit[1])))
        return [CodeHit(code, title) for code, title in hits[:limit]]
