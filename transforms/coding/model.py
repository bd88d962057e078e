"""The coder's trained parts: a mention-level pair model, a note-level logistic
model and a lexicon.

Plain numpy at run time, and onnxruntime for a tree pair model (``pair_models``).
``data/coder_model.json.gz`` is written by ``bench/train_coder.py`` from
CodiEsp-EN train and pinned by sha256 in ``data/provenance.json``; the loader
refuses a file that differs.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from transforms.coding.codeset import CodeSetError, verified_data_file
from transforms.coding.features import FEATURE_NAMES, LEXICAL_FEATURE_NAMES, Lexicon
from transforms.coding.pair_models import PairModel, pair_model_from_dict

DATA_DIR = Path(__file__).with_name("data")
# The bundled coders: the default finds candidates lexically; the dense one adds the
# sentence encoder's nearest titles, which codes better and costs the job more time
# than the budget for the coding step allows (model card, BENCHMARKS.md).
DEFAULT_CODER = "icd10cm_coder"
DENSE_CODER = "icd10cm_coder_dense"
MODEL_FILES = {DEFAULT_CODER: "coder_model.json.gz", DENSE_CODER: "coder_model_dense.json.gz"}
MODEL_FILE = MODEL_FILES[DEFAULT_CODER]


NOTE_FEATURE_NAMES = (
    "best_pair_logit",
    "noisy_or_logit",  # the chance that at least one proposing mention is right
    "proposing_mentions",  # log(1 + mentions that proposed the code)
    "code_prior",
)


def _scalar_logit(p: float) -> float:
    clipped = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(clipped / (1 - clipped))


def note_features(pair_probabilities: Sequence[float], prior: float) -> list[float]:
    """Plain floats: a note has hundreds of codes, and numpy's per-call cost on
    four-element arrays was most of the coder's time."""
    miss_all = 1.0
    for p in pair_probabilities:
        miss_all *= 1.0 - p
    return [
        _scalar_logit(max(pair_probabilities)),
        _scalar_logit(1.0 - miss_all),
        math.log1p(len(pair_probabilities)),
        prior,
    ]


@dataclass(frozen=True)
class CoderModel:
    name: str
    version: str
    feature_names: tuple[str, ...]
    pair_model: PairModel  # scores each (mention, candidate) row
    # The note-level model: a logistic regression on NOTE_FEATURE_NAMES.
    note_mean: np.ndarray
    note_scale: np.ndarray
    note_weights: np.ndarray
    note_bias: float
    threshold: float  # the note-level score a code needs, chosen on a validation fold
    lexicon: Lexicon
    candidates_per_query: int = 20
    dense_candidates_per_query: int = 0  # 0: no dense retrieval
    dense_unlinked_only: bool = False  # embed only surfaces the lexicon links to nothing
    window_words: int = 4
    # Coder mentions (``gazetteer``) need a lexicon key seen in this many training
    # documents; 0 turns them off.
    lexicon_mention_documents: int = 3
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        computed = FEATURE_NAMES if self.dense_candidates_per_query else LEXICAL_FEATURE_NAMES
        if tuple(self.feature_names) != computed:
            raise CodeSetError(
                f"coder model {self.name}:{self.version} was trained on features "
                f"{list(self.feature_names)}, this coder computes {list(computed)}"
            )

    def pair_probability(self, matrix: np.ndarray) -> np.ndarray:
        """How likely each (mention, code) row is one of the note's codes."""
        return self.pair_model.probability(matrix)

    def note_score(self, pair_probabilities: Sequence[float], prior: float) -> float:
        """How likely a code is one of the note's, from every mention that proposed it."""
        z = self.note_bias
        for value, (mean, scale, weight) in zip(
            note_features(pair_probabilities, prior), self._note_terms, strict=True
        ):
            z += (value - mean) / scale * weight
        return 1.0 / (1.0 + math.exp(-z))

    @cached_property
    def _note_terms(self) -> list[tuple[float, float, float]]:
        """(mean, scale, weight) per note feature as plain floats, made once."""
        columns = (self.note_mean, self.note_scale, self.note_weights)
        return [tuple(float(v) for v in term) for term in zip(*columns, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "feature_names": list(self.feature_names),
            "pair_model": self.pair_model.to_dict(),
            "note_mean": [round(float(v), 6) for v in self.note_mean],
            "note_scale": [round(float(v), 6) for v in self.note_scale],
            "note_weights": [round(float(v), 6) for v in self.note_weights],
            "note_bias": round(self.note_bias, 6),
            "threshold": round(self.threshold, 6),
            "candidates_per_query": self.candidates_per_query,
            "dense_candidates_per_query": self.dense_candidates_per_query,
            "dense_unlinked_only": self.dense_unlinked_only,
            "window_words": self.window_words,
            "lexicon_mention_documents": self.lexicon_mention_documents,
            "lexicon": {
                "support": {
                    k: dict(sorted(v.items())) for k, v in sorted(self.lexicon.support.items())
                },
                "surface_documents": dict(sorted(self.lexicon.surface_documents.items())),
                "code_documents": dict(sorted(self.lexicon.code_documents.items())),
                "phrase_keys": sorted(self.lexicon.phrase_keys),
            },
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoderModel:
        lexicon = data["lexicon"]
        return cls(
            name=data["name"],
            version=data["version"],
            feature_names=tuple(data["feature_names"]),
            pair_model=pair_model_from_dict(data["pair_model"]),
            note_mean=np.array(data["note_mean"], dtype=np.float32),
            note_scale=np.array(data["note_scale"], dtype=np.float32),
            note_weights=np.array(data["note_weights"], dtype=np.float32),
            note_bias=float(data["note_bias"]),
            threshold=float(data["threshold"]),
            lexicon=Lexicon(
                support=lexicon["support"],
                surface_documents=lexicon["surface_documents"],
                code_documents=lexicon["code_documents"],
                # Coders before 1.3 learnt no phrase keys.
                phrase_keys=frozenset(lexicon.get("phrase_keys", ())),
            ),
            candidates_per_query=int(data["candidates_per_query"]),
            dense_candidates_per_query=int(data["dense_candidates_per_query"]),
            dense_unlinked_only=bool(data["dense_unlinked_only"]),
            window_words=int(data["window_words"]),
            lexicon_mention_documents=int(data["lexicon_mention_documents"]),
            provenance=data.get("provenance", {}),
        )

    def save(self, path: Path) -> None:
        payload = json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")
        # mtime=0: the same model gives the same bytes, so its sha256 pin holds.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out,
        ):
            out.write(payload)

    @classmethod
    def load(cls, path: Path) -> CoderModel:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return cls.from_dict(json.load(handle))
        except FileNotFoundError:
            raise CodeSetError(f"the coder model {path} is missing") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # PairModelError included
            raise CodeSetError(f"the coder model {path} cannot be read: {exc}") from None


@lru_cache(maxsize=len(MODEL_FILES))
def bundled_coder_model(name: str = DEFAULT_CODER) -> CoderModel:
    if name not in MODEL_FILES:
        raise CodeSetError(
            f"no bundled coder model {name!r}; the bundled ones are {', '.join(MODEL_FILES)}"
        )
    path = verified_data_file(DATA_DIR / MODEL_FILES[name], "coder model", "bench/train_coder.py")
    model = CoderModel.load(path)
    if model.name != name:
        raise CodeSetError(f"the coder model {path} is {model.name}, not {name}")
    return model
