"""Lexical candidate retrieval: BM25 over the words that name each billable code.

A code's "document" is its title and inclusion terms, plus, at half weight, the
"includes" terms it inherits from its category (they name the category, not
the code); its length for BM25 is the mean length of its own names. Words are
folded, stemmed (Snowball English) and stripped of function words and of the
code set's own boilerplate ("unspecified", "other").

The index is inverted into one array of code numbers and one of precomputed
BM25 weights per stem, so a query costs one vectorised addition per query stem.
rank-bm25 scores every document for every query term in Python, which is too
slow for 75,000 codes and thousands of mentions per run; bm25s needs scipy,
which workers do not install.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer

from transforms.coding.codeset import DATA_DIR, CodeSet, save_arrays, verified_data_file
from transforms.core.text import fold

_WORD = re.compile(r"[a-z0-9]+")
# Function words, and words of the code set's own phrasing that name no condition.
STOP_WORDS = frozenset(
    "a an and as at by due for from in into is of on or other the to unspecified nos "
    "specified site type part without".split()
)
INHERITED_WEIGHT = 0.5
_K1 = 1.2
_B = 0.75
# A query touching fewer postings than a tenth of the codes sorts them; more, and one
# pass over a vector of every code is cheaper (measured: 75,000 codes, crossover ~8,000).
_SORT_SHARE = 10
_TOP_CACHE_SIZE = 100_000  # queries; cleared when full, a few tens of MB at most


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    # The code set repeats a few thousand words ~700,000 times: stem each once.
    return _STEMMER.stemWord(word)


def stems(text: str) -> list[str]:
    """The comparable stems of a phrase, in order, function words dropped."""
    return list(_phrase_stems(text))


@lru_cache(maxsize=200_000)
def _phrase_stems(text: str) -> tuple[str, ...]:
    # Mentions, windows and coder-mention phrases repeat across notes.
    return tuple(_stem(w) for w in _WORD.findall(fold(text)) if w not in STOP_WORDS)


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float


class LexicalIndex:
    """BM25 over weighted code documents."""

    def __init__(
        self,
        codes: Sequence[str],
        documents: Sequence[dict[str, float]],
        lengths: Sequence[float] | None = None,
    ) -> None:
        """``lengths``: each document's length for BM25's normalisation; by default
        the sum of its stem weights."""
        # Numbered in code order, so that ranking can break ties by number.
        order = sorted(range(len(codes)), key=lambda i: codes[i])
        self.codes = [codes[i] for i in order]
        documents = [documents[i] for i in order]
        lengths = np.array(
            [sum(documents[n].values()) for n in range(len(order))]
            if lengths is None
            else [lengths[i] for i in order],
            dtype=np.float32,
        )
        average = float(lengths.mean()) if len(lengths) else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, doc in enumerate(documents):
            for stem, weight in doc.items():
                postings[stem].append((number, weight))
        total = len(documents)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for stem, entries in postings.items():
            numbers = np.array([n for n, _ in entries], dtype=np.int32)
            tf = np.array([w for _, w in entries], dtype=np.float32)
            idf = math.log(1.0 + (total - len(entries) + 0.5) / (len(entries) + 0.5))
            norm = _K1 * (1.0 - _B + _B * lengths[numbers] / average)
            self._postings[stem] = (
                numbers,
                (idf * tf * (_K1 + 1.0) / (tf + norm)).astype(np.float32),
            )

    @classmethod
    def from_code_set(cls, code_set: CodeSet, *, phrase_lengths: bool = True) -> LexicalIndex:
        """``phrase_lengths``: normalise by the mean length of the code's own names
        (title and inclusion terms). A code with many inclusion terms ("Fever NOS",
        "Persistent fever", ...) is not a longer document but more names for one
        thing; by the whole document's length, R50.9 ranked below ten codes that
        merely mention a fever."""
        codes, documents, lengths = [], [], []
        for code, entry in sorted(code_set.entries.items()):
            doc: dict[str, float] = defaultdict(float)
            for phrase in (entry.title, *entry.inclusion_terms):
                for stem in set(stems(phrase)):
                    doc[stem] = max(doc[stem], 1.0)
            for phrase in entry.includes:
                for stem in set(stems(phrase)):
                    doc[stem] = max(doc[stem], INHERITED_WEIGHT)
            codes.append(code)
            documents.append(dict(doc))
            names = (entry.title, *entry.inclusion_terms)
            lengths.append(max(sum(len(set(stems(n))) for n in names) / len(names), 1.0))
        return cls(codes, documents, lengths if phrase_lengths else None)

    @property
    def vocabulary(self) -> Container[str]:
        """Every stem some code's names hold."""
        return self._postings.keys()

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The codes ``text`` shares a stem with (numbers, ascending) and their BM25
        scores: only the query stems' postings are touched, never all 75,000 codes."""
        return self._stem_scores(self._query_stems(text))

    def _query_stems(self, text: str) -> tuple[str, ...]:
        # Sorted, so that the weights are summed in one order in every process
        # (a set's order changes with the string hash seed).
        return tuple(sorted(stem for stem in set(stems(text)) if stem in self._postings))

    def _stem_scores(self, query: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        found = [self._postings[stem] for stem in query]
        if not found:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if len(found) == 1:  # one stem: its postings are the scores, already in order
            return found[0]
        numbers = np.concatenate([numbers for numbers, _ in found])
        weights = np.concatenate([weights for _, weights in found])
        # Both sum each code's weights in the same order, so they give the same floats.
        if len(numbers) * _SORT_SHARE < len(self.codes):
            codes, inverse = np.unique(numbers, return_inverse=True)
            return codes.astype(np.int32), np.bincount(inverse, weights=weights).astype(np.float32)
        dense = np.bincount(numbers, weights=weights, minlength=len(self.codes))
        codes = np.flatnonzero(dense).astype(np.int32)
        return codes, dense[codes].astype(np.float32)

    def top(self, text: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (code number, score), best first; ties broken by code."""
        return list(self._cached_top(self._query_stems(text), k))

    def _cached_top(self, query: tuple[str, ...], k: int) -> tuple[tuple[int, float], ...]:
        # About half of a run's queries repeat an earlier one's stems ("pain",
        # "hypertension", and windows around them).
        cache = self.__dict__.setdefault("_top_cache", {})
        key = (query, k)
        found = cache.get(key)
        if found is None:
            if len(cache) >= _TOP_CACHE_SIZE:
                cache.clear()
            found = cache[key] = tuple(self._top(query, k))
        return found

    def _top(self, query: tuple[str, ...], k: int) -> list[tuple[int, float]]:
        numbers, scores = self._stem_scores(query)
        if len(numbers) > k:
            # Only codes scoring at least the k-th best can rank: sort those alone.
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            kept = scores >= kth
            numbers, scores = numbers[kept], scores[kept]
        order = np.lexsort((numbers, -scores))[:k]
        return [(int(numbers[i]), float(scores[i])) for i in order]

    def search(self, text: str, *, k: int = 20) -> list[Candidate]:
        """The ``k`` best codes for a mention, best first; ties broken by code."""
        return [Candidate(self.codes[n], score) for n, score in self.top(text, k)]

    def save(self, path: Path) -> None:
        """Numpy arrays in a zip whose entries carry a fixed date: the same index
        gives the same bytes, so its sha256 pin holds."""
        ordered = sorted(self._postings)
        arrays = {
            "codes": np.array(self.codes),
            "stems": np.array(ordered),
            "offsets": np.cumsum([0, *(len(self._postings[s][0]) for s in ordered)]),
            "numbers": np.concatenate([self._postings[s][0] for s in ordered]),
            "weights": np.concatenate([self._postings[s][1] for s in ordered]),
        }
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        with np.load(path, allow_pickle=False) as data:
            codes, stems_, offsets = data["codes"], data["stems"], data["offsets"]
            numbers, weights = data["numbers"], data["weights"]
        index = cls.__new__(cls)
        index.codes = [str(code) for code in codes]
        index._postings = {
            str(stem): (numbers[start:end], weights[start:end])
            for stem, start, end in zip(stems_, offsets[:-1], offsets[1:], strict=True)
        }
        return index


INDEX_FILE = "lexical_index.npz"


@lru_cache(maxsize=1)
def bundled_lexical_index() -> LexicalIndex:
    """The index shipped beside the code set (``data/build_lexical_index.py``): building
    it from the terms takes seconds in every worker, loading it a few milliseconds."""
    path = verified_data_file(
        DATA_DIR / INDEX_FILE, "BM25 index", "python -m transforms.coding.data.build_lexical_index"
    )
    return LexicalIndex.load(path)
