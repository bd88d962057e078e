"""Candidate codes for a mention, and the features the reranker scores them on.

A mention is a PROBLEM entity's span; its *window* is the entity and up to
``window_words`` words either side within its sentence, which supplies the
specificity the model's span often leaves out ("duodenal" for "ulcer", "right"
for a fracture). Candidates are the union of

- the lexical top-k for the entity surface and for the window;
- the dense top-k for the surface: the code titles nearest it in a sentence
  encoder's space (``dense``), which finds codes that share no stem with it.
  Where the model says so, only surfaces the lexicon links to no code are
  embedded: each text embedded costs time, and a surface training has linked
  already has its candidates;
- the codes the training lexicon saw with this surface (``Lexicon``);
- the plain (unspecified) code of each candidate's category and subcategory.

Every candidate gets the same fixed feature vector (``LEXICAL_FEATURE_NAMES``,
and ``DENSE_FEATURE_NAMES`` after them where dense retrieval is on); the
reranker's weights are fitted on CodiEsp-EN train by ``bench/train_coder.py``.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from transforms.coding.codeset import CodeSet
from transforms.coding.dense import DenseRetriever
from transforms.coding.lexical import LexicalIndex, stems
from transforms.coding.rules import is_unspecified
from transforms.core.entities import ClinicalEntity

LEXICAL_FEATURE_NAMES = (
    "bm25_surface",  # the code's BM25 score for the surface, over the surface's best
    "bm25_window",
    "rank_surface",  # 1 / (1 + rank) among the surface's lexical candidates
    "rank_window",
    "surface_coverage",  # share of the surface's stems that name the code
    "title_coverage",  # share of the code title's stems found in the window
    "lexicon_support",  # log(1 + training documents with this surface and code)
    "lexicon_precision",  # those documents over the surface's documents (+1)
    "code_prior",  # log(1 + training documents coded with it)
    "seen_in_training",
    "unspecified",
    "entity_score",
    "specificity",  # characters after the category
    "negated",
    "historical",
    "category_default",  # added as the plain code of a candidate's category
)
DENSE_FEATURE_NAMES = (
    "dense_queried",  # the surface was embedded
    "dense_surface",  # cosine of the code title's embedding with the surface's
    "dense_rank",  # 1 / (1 + rank) among the surface's dense candidates
)
FEATURE_NAMES = LEXICAL_FEATURE_NAMES + DENSE_FEATURE_NAMES
_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n")


@dataclass(frozen=True)
class Lexicon:
    """What training saw: per surface key, the documents coded with each code."""

    support: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    surface_documents: Mapping[str, int] = field(default_factory=dict)
    code_documents: Mapping[str, int] = field(default_factory=dict)
    # Keys learnt from phrases outside the entities (``training.phrase_support``):
    # their candidates are the codes they are linked to, never a lexical search.
    phrase_keys: frozenset[str] = frozenset()

    def codes_for(self, key: str) -> Mapping[str, int]:
        return self.support.get(key, {})


@lru_cache(maxsize=200_000)
def surface_key(surface: str) -> str:
    """A mention's lexicon key: its stems, sorted and distinct."""
    return " ".join(sorted(set(stems(surface))))


@dataclass(frozen=True)
class Mention:
    entity_index: int
    start: int
    end: int
    surface: str
    window_start: int
    window_end: int
    window: str


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``start``..``end``: after the last sentence end before
    ``start``, up to the first at or after ``end``."""
    ends = _sentence_ends(text)
    before = bisect.bisect_left(ends, start) - 1
    # A stop right before ``start`` does not end the sentence: the whitespace its
    # pattern looks ahead to would be inside the mention. A line break needs none.
    if before >= 0 and ends[before] == start - 1 and text[start - 1] != "\n":
        before -= 1
    after = bisect.bisect_left(ends, end)
    return (ends[before] + 1 if before >= 0 else 0), (
        ends[after] if after < len(ends) else len(text)
    )


@lru_cache(maxsize=8)
def _sentence_ends(text: str) -> list[int]:
    """Where each sentence end of the note is: every mention of a note reads them,
    and a search from the note's start for each was about 5% of the coder's time."""
    return [match.start() for match in _SENTENCE_END.finditer(text)]


def mention_of(text: str, index: int, entity: ClinicalEntity, window_words: int) -> Mention:
    begin, finish = sentence_bounds(text, entity.start, entity.end)
    before = [m for m in _WORD.finditer(text, begin, entity.start)][-window_words:]
    after = [m for m in _WORD.finditer(text, entity.end, max(finish, entity.end))][:window_words]
    window_start = before[0].start() if before else entity.start
    window_end = after[-1].end() if after else entity.end
    return Mention(
        entity_index=index,
        start=entity.start,
        end=entity.end,
        surface=text[entity.start : entity.end],
        window_start=window_start,
        window_end=window_end,
        window=text[window_start:window_end],
    )


class CodeTerms:
    """The stems that name each code, computed once per code."""

    def __init__(self, code_set: CodeSet) -> None:
        self._code_set = code_set
        self.title_stems = lru_cache(maxsize=100_000)(self._title_stems)
        self.term_stems = lru_cache(maxsize=100_000)(self._term_stems)

    def _title_stems(self, code: str) -> frozenset[str]:
        return frozenset(stems(self._code_set.entries[code].title))

    def _term_stems(self, code: str) -> frozenset[str]:
        entry = self._code_set.entries[code]
        found: set[str] = set()
        for phrase in entry.terms:
            found.update(stems(phrase))
        return frozenset(found)


def _ranked(index: LexicalIndex, text: str, k: int) -> dict[str, tuple[float, int]]:
    """The top ``k`` codes for ``text`` with (score over the best score, rank)."""
    best = index.top(text, k)
    if not best:
        return {}
    top = best[0][1]
    return {index.codes[n]: (score / top, rank) for rank, (n, score) in enumerate(best)}


@dataclass(frozen=True)
class MentionVectors:
    """A note's embedded mention surfaces, and the codes whose titles are nearest
    each, with their cosines."""

    vectors: Mapping[str, np.ndarray]
    nearest: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class CandidateFeatures:
    mention: Mention
    codes: tuple[str, ...]
    matrix: np.ndarray  # len(codes) x len(builder.feature_names), float32


class FeatureBuilder:
    def __init__(
        self,
        *,
        index: LexicalIndex,
        code_set: CodeSet,
        lexicon: Lexicon,
        dense: DenseRetriever | None,
        candidates_per_query: int,
        dense_candidates_per_query: int,
        window_words: int,
        dense_unlinked_only: bool = False,
    ) -> None:
        """``dense``: None (or ``dense_candidates_per_query`` 0) embeds nothing and
        leaves the dense features 0. ``dense_unlinked_only``: embed only surfaces the
        lexicon links to no code (the dense features are 0 for the others)."""
        self.index = index
        self.code_set = code_set
        self.lexicon = lexicon
        self.dense = dense
        self.k = candidates_per_query
        self.dense_k = dense_candidates_per_query
        self.dense_unlinked_only = dense_unlinked_only
        self.window_words = window_words
        # Without dense retrieval the dense features would be constant 0: they are left
        # out, so the reranker's pairwise products stay at the lexical 136.
        self.uses_dense = dense is not None and dense_candidates_per_query > 0
        self.feature_names = FEATURE_NAMES if self.uses_dense else LEXICAL_FEATURE_NAMES
        self.terms = CodeTerms(code_set)
        # A run scores the same few thousand codes for every mention: what depends on
        # the code alone is worked out once per code.
        self._code_features = lru_cache(maxsize=100_000)(self._features_of_code)

    def _features_of_code(self, code: str) -> tuple[float, float, float, float]:
        """code_prior, seen_in_training, unspecified, specificity."""
        prior = self.lexicon.code_documents.get(code, 0)
        return (
            math.log1p(prior),
            1.0 if prior else 0.0,
            1.0 if is_unspecified(self.code_set.entries[code].title) else 0.0,
            float(len(code.replace(".", "")) - 3),
        )

    def mention(self, text: str, index: int, entity: ClinicalEntity) -> Mention:
        return mention_of(text, index, entity, self.window_words)

    def embed(self, mentions: Sequence[Mention]) -> MentionVectors:
        """The surfaces of a note's mentions, embedded in one batch, and the titles
        nearest each: one encoder call and one matrix product per note."""
        if not self.uses_dense:
            return MentionVectors({}, {})
        texts = [
            m.surface
            for m in mentions
            if not (self.dense_unlinked_only and self.lexicon.codes_for(surface_key(m.surface)))
        ]
        vectors = self.dense.embed(texts)
        texts = sorted(vectors)
        if not texts:
            return MentionVectors({}, {})
        nearest = self.dense.nearest(np.stack([vectors[t] for t in texts]), self.dense_k)
        return MentionVectors(vectors, dict(zip(texts, nearest, strict=True)))

    def candidates(
        self, mention: Mention, entity: ClinicalEntity, vectors: MentionVectors
    ) -> CandidateFeatures:
        """``vectors``: ``embed`` of the note's mentions, this one among them."""
        key = surface_key(mention.surface)
        if key in self.lexicon.phrase_keys:
            # A phrase no entity had ("smoker") is a mention for the codes training
            # saw with it. Searching the titles for it and its window as well
            # proposed mostly noise: on the validation fold (before training's phrase
            # checks), 0.492 with the search and 0.497 without, and half again as
            # many rows to score.
            by_surface, by_window = {}, {}
        else:
            by_surface = _ranked(self.index, mention.surface, self.k)
            by_window = _ranked(self.index, mention.window, self.k)
        surface_vector = vectors.vectors.get(mention.surface)
        dense_rank = {c: n for n, c in enumerate(vectors.nearest.get(mention.surface, {}))}
        seen = {c: n for c, n in self.lexicon.codes_for(key).items() if c in self.code_set}
        found = set(by_surface) | set(by_window) | set(seen) | set(dense_rank)
        defaults = {d for code in found for d in self.code_set.defaults_for(code)}
        codes = sorted(found | defaults)
        surface_stems = set(stems(mention.surface))
        window_stems = set(stems(mention.window))
        surface_documents = self.lexicon.surface_documents.get(key, 0)
        surface_size = max(len(surface_stems), 1)
        negated = 1.0 if entity.assertion.negated else 0.0
        historical = 1.0 if entity.assertion.historical else 0.0
        absent = (0.0, self.k)
        rows = []
        for code in codes:
            surface_score, surface_rank = by_surface.get(code, absent)
            window_score, window_rank = by_window.get(code, absent)
            title = self.terms.title_stems(code)
            support = seen.get(code, 0)
            prior, seen_in_training, unspecified, specificity = self._code_features(code)
            rows.append(
                (
                    surface_score,
                    window_score,
                    1.0 / (1.0 + surface_rank),
                    1.0 / (1.0 + window_rank),
                    len(surface_stems & self.terms.term_stems(code)) / surface_size,
                    len(title & window_stems) / max(len(title), 1),
                    math.log1p(support),
                    support / (surface_documents + 1.0),
                    prior,
                    seen_in_training,
                    unspecified,
                    entity.score,
                    specificity,
                    negated,
                    historical,
                    1.0 if code in defaults else 0.0,
                )
            )
        matrix = np.array(rows, dtype=np.float32).reshape(len(codes), len(LEXICAL_FEATURE_NAMES))
        if self.uses_dense:
            matrix = np.hstack([matrix, self._dense_columns(codes, surface_vector, dense_rank)])
        return CandidateFeatures(mention, tuple(codes), matrix)

    def _dense_columns(
        self, codes: Sequence[str], surface_vector: np.ndarray | None, dense_rank: dict[str, int]
    ) -> np.ndarray:
        """DENSE_FEATURE_NAMES for each code; 0 where the surface was not embedded."""
        columns = np.zeros((len(codes), len(DENSE_FEATURE_NAMES)), dtype=np.float32)
        if surface_vector is None:
            return columns
        columns[:, 0] = 1.0
        columns[:, 1] = self.dense.cosines(codes, surface_vector[None, :])[:, 0]
        columns[:, 2] = [1.0 / (1.0 + dense_rank[c]) if c in dense_rank else 0.0 for c in codes]
        return columns

    def specificity_spans(self, text: str, mention: Mention, code: str) -> list[tuple[int, int]]:
        """Words of the window, outside the entity, that name part of the code's title
        ("right", "duodenal", "kidney"): the evidence for its specificity."""
        title = self.terms.title_stems(code)
        spans = []
        for match in _WORD.finditer(text, mention.window_start, mention.window_end):
            if mention.start <= match.start() < mention.end:
                continue
            if set(stems(match.group())) & title:
                spans.append((match.start(), match.end()))
        return spans


def problem_entities(entities: Sequence[ClinicalEntity]) -> list[tuple[int, ClinicalEntity]]:
    return [(i, e) for i, e in enumerate(entities) if e.label == "PROBLEM"]
