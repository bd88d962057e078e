"""Dense candidate retrieval: mentions and code titles embedded by one sentence encoder.

Lexical retrieval misses a code whose title shares no stem with the mention
("heart attack" for I21.9, "sugar" for diabetes). Every billable code's title
is embedded once, at build time (``data/build_title_vectors.py``), with the
bundled ``sentence_minilm`` encoder; at run time a note's mention surfaces are
embedded in one batch and the titles nearest each one join the candidates. The
title vectors pin the encoder file's sha256: vectors from another encoder would
compare as noise, so the loader refuses them.

Only one of an injury code's 7th-character variants is embedded, the initial
encounter's (S72.001A, not ...D or ...S): the variants share a title but for
the encounter, the coder's rules choose the 7th character from the text, and
43,729 rows are searched rather than 74,719. Vectors are stored as int8 with
one float32 scale per row (17 MB rather than 67 MB); the cosines they give
differ from float32 by under 0.005.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from onnx_models.registry import FEATURE_EXTRACTION, load_bundle
from onnx_models.runtime.encoder import SentenceEncoder
from transforms.coding.codeset import (
    DATA_DIR,
    CodeSet,
    CodeSetError,
    save_arrays,
    verified_data_file,
)
from transforms.coding.rules import with_seventh_character

TITLE_VECTORS_FILE = "code_title_vectors.npz"
ENCODER_MODEL = "sentence_minilm"
INITIAL_ENCOUNTER = "A"
# Scores are compared in blocks of this many titles: a block's best bounds its rest.
BLOCK = 64
# The search first scores every title in the titles' top singular directions, then
# the best SHORTLIST of those exactly. One product with all 384 dimensions reads the
# whole 67 MB matrix, which makes it memory-bound at about 10 ms a note whatever the
# number of queries; 96 directions read a quarter of it and find 99% of the exact
# top five (25 test phrases; tests/transforms/coding/test_dense.py).
SHORTLIST_DIMENSIONS = 96
SHORTLIST = 50


class TitleVectors:
    """One unit-length vector per billable code's title, in code order."""

    def __init__(
        self,
        codes: Sequence[str],
        vectors: np.ndarray,
        encoder_sha256: str,
        projection: np.ndarray | None = None,
    ) -> None:
        """``projection``: dimension x SHORTLIST_DIMENSIONS, the titles' top right
        singular vectors; computed here when not given (saved with the vectors, so a
        loaded index never depends on this machine's SVD)."""
        self.codes = list(codes)
        vectors = np.asarray(vectors, dtype=np.float32)
        # Kept transposed (dimension x code): products with a batch of queries run a
        # third faster on contiguous columns.
        self.by_dimension = np.ascontiguousarray(vectors.T)
        if projection is None:
            _, _, right = np.linalg.svd(vectors, full_matrices=False)
            projection = right[:SHORTLIST_DIMENSIONS].T
        self.projection = np.ascontiguousarray(projection, dtype=np.float32)
        self.projected = np.ascontiguousarray((vectors @ self.projection).T)
        self.encoder_sha256 = encoder_sha256
        self.row = {code: n for n, code in enumerate(self.codes)}

    def row_of(self, code: str) -> int:
        """An injury code's other 7th characters share its initial encounter's row."""
        found = self.row.get(code)
        return self.row[code[:-1] + INITIAL_ENCOUNTER] if found is None else found

    @classmethod
    def from_encoder(cls, code_set: CodeSet, encoder: SentenceEncoder) -> TitleVectors:
        codes = sorted(
            {with_seventh_character(code, INITIAL_ENCOUNTER, code_set) for code in code_set.entries}
        )
        vectors = encoder.embed([code_set.entries[code].title for code in codes])
        return cls(codes, vectors, encoder.describe()["sha256"])

    @property
    def vectors(self) -> np.ndarray:
        """code x dimension."""
        return self.by_dimension.T

    def save(self, path: Path) -> None:
        """int8 rows and their scales in a zip with fixed entry dates: the same vectors
        give the same bytes, so the sha256 pin holds."""
        scales = np.abs(self.vectors).max(axis=1) / 127.0
        scales[scales == 0] = 1.0
        quantized = np.round(self.vectors / scales[:, None]).astype(np.int8)
        arrays = {
            "codes": np.array(self.codes),
            "vectors": quantized,
            "scales": scales.astype(np.float32),
            "projection": self.projection,
            "encoder_sha256": np.array(self.encoder_sha256),
        }
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path: Path) -> TitleVectors:
        with np.load(path, allow_pickle=False) as data:
            vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
            codes = [str(code) for code in data["codes"]]
            encoder_sha256 = str(data["encoder_sha256"])
            projection = data["projection"]
        return cls(codes, vectors, encoder_sha256, projection)


class DenseRetriever:
    """The titles nearest a note's mention texts, by cosine."""

    def __init__(self, encoder: SentenceEncoder, titles: TitleVectors) -> None:
        found = encoder.describe()["sha256"]
        if titles.encoder_sha256 != found:
            raise CodeSetError(
                f"the code-title vectors were embedded by encoder file {titles.encoder_sha256}, "
                f"not the bundled {encoder.manifest.name} ({found}); rebuild them with "
                "python -m transforms.coding.data.build_title_vectors"
            )
        self.encoder = encoder
        self.titles = titles

    def embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each distinct text's vector, embedded in one sorted batch: a note's texts
        always give it the same vectors, whatever other notes the worker has seen."""
        distinct = sorted(set(texts))
        if not distinct:
            return {}
        return dict(zip(distinct, self.encoder.embed(distinct), strict=True))

    def nearest(self, vectors: np.ndarray, k: int) -> list[dict[str, float]]:
        """For each row of ``vectors``, its ``k`` nearest codes among the shortlist
        and their exact cosines, best first; ties go to the lower code."""
        if len(vectors) == 0 or k < 1:
            return [{} for _ in range(len(vectors))]
        titles = self.titles
        rough = (vectors @ titles.projection) @ titles.projected
        found = []
        for vector, shortlist in zip(vectors, _top_numbers(rough, max(SHORTLIST, k)), strict=True):
            exact = vector @ titles.by_dimension[:, shortlist]
            best = np.lexsort((shortlist, -exact))[:k]
            found.append({titles.codes[shortlist[n]]: float(exact[n]) for n in best})
        return found

    def cosines(self, codes: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """len(codes) x len(vectors): each code title's cosine with each vector."""
        rows = [self.titles.row_of(code) for code in codes]
        return (vectors @ self.titles.by_dimension[:, rows]).T

    def describe(self) -> dict[str, str]:
        return self.encoder.describe()


def _top_numbers(scores: np.ndarray, k: int) -> list[np.ndarray]:
    """Each row's ``k`` best positions, best first, ties to the lower position.

    Exact, and cheaper than partitioning every score: a row's k best scores lie
    in its blocks with the k best block maxima, so only those blocks are sorted."""
    rows, length = scores.shape
    padded = np.pad(scores, ((0, 0), (0, -length % BLOCK)), constant_values=-np.inf)
    block_best = padded.reshape(rows, -1, BLOCK).max(axis=2)
    blocks = block_best.shape[1]
    k_blocks = min(k, blocks)
    kth_block = np.partition(block_best, blocks - k_blocks, axis=1)[:, blocks - k_blocks]
    found = []
    for row, best, kth in zip(scores, block_best, kth_block, strict=True):
        chosen = np.flatnonzero(best >= kth)  # ties keep every tied block
        numbers = (chosen[:, None] * BLOCK + np.arange(BLOCK)).ravel()
        numbers = numbers[numbers < length]
        found.append(numbers[np.lexsort((numbers, -row[numbers]))[:k]])
    return found


def title_vectors_path() -> Path:
    return DATA_DIR / TITLE_VECTORS_FILE


def bundled_encoder() -> SentenceEncoder:
    return SentenceEncoder(load_bundle(ENCODER_MODEL, task=FEATURE_EXTRACTION))


@lru_cache(maxsize=1)
def bundled_dense_retriever() -> DenseRetriever:
    """The bundled encoder and the title vectors it built, each checked by sha256."""
    path = verified_data_file(
        title_vectors_path(),
        "code-title vectors",
        "python -m transforms.coding.data.build_title_vectors",
    )
    return DenseRetriever(bundled_encoder(), TitleVectors.load(path))
