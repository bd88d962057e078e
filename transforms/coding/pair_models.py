"""The reranker's pair models: how likely a (mention, candidate code) row is one of
the note's codes, from the row's ``FEATURE_NAMES`` features.

Two kinds behind one interface (``probability``, ``to_dict``), chosen by the
``kind`` of the saved model:

- ``LogisticPairModel`` (the bundled coder): logistic regression on the
  features and every product of two of them. Plain numpy.
- ``TreePairModel`` (tried, not bundled: see the model card): gradient-boosted
  trees, scikit-learn's ``HistGradientBoostingClassifier``, exported to ONNX
  with skl2onnx and run with onnxruntime, so workers need neither scikit-learn
  nor skl2onnx. The trees learn the thresholds and interactions (a lexicon hit counts only with
  lexical support) that the logistic model needed hand-made products for.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol

import numpy as np

TREES = "trees"
LOGISTIC = "logistic"
# Small trees with many rows a leaf, as a few hundred documents of one corpus are all
# they see: the most regularised of five settings tried on train's validation fold
# (never on dev), not the one that scored best there.
TREE_PARAMETERS: dict[str, Any] = {
    "max_iter": 300,
    "learning_rate": 0.08,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


class PairModelError(ValueError):
    """A saved pair model that cannot be used; the message says why."""


class PairModel(Protocol):
    def probability(self, matrix: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def with_interactions(matrix: np.ndarray) -> np.ndarray:
    """The features and every product of two of them (squares included): a logistic
    regression is linear in these, so it can learn that a lexicon hit counts only
    with lexical support, or a prior only for a close title."""
    left, right = _pairs(matrix.shape[1])
    return np.hstack([matrix, matrix[:, left] * matrix[:, right]])


@lru_cache(maxsize=8)
def _pairs(width: int) -> tuple[np.ndarray, np.ndarray]:
    """Column numbers (i, j), i <= j, in with_interactions' order: one product of two
    gathered arrays instead of one small product per column."""
    left, right = np.triu_indices(width)
    return left, right


def interaction_names(names: list[str] | tuple[str, ...]) -> list[str]:
    """Names for ``with_interactions``' columns, in its order."""
    return [*names, *(f"{a}*{b}" for i, a in enumerate(names) for b in names[i:])]


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, steps: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardise, then fit L2 logistic regression by Newton's method (a few
    thousand rows of fifteen features: exact and deterministic)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))]).astype(np.float64)
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2 * len(x))
    penalty[-1] = 0.0
    for _ in range(steps):
        p = sigmoid(z @ w)
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if math.sqrt(float(step @ step)) < 1e-8:
            break
    return (
        mean.astype(np.float32),
        scale.astype(np.float32),
        w[:-1].astype(np.float32),
        float(w[-1]),
    )


@dataclass(frozen=True)
class LogisticPairModel:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> LogisticPairModel:
        return cls(*fit_logistic(with_interactions(x), y))

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0, dtype=np.float64)
        z = ((with_interactions(matrix) - self.mean) / self.scale) @ self.weights + self.bias
        return sigmoid(z.astype(np.float64))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": LOGISTIC,
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogisticPairModel:
        return cls(
            mean=np.array(data["mean"], dtype=np.float32),
            scale=np.array(data["scale"], dtype=np.float32),
            weights=np.array(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
        )


@dataclass(frozen=True)
class TreePairModel:
    onnx: bytes  # a serialised ONNX graph: float features in, class probabilities out
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, parameters: dict[str, Any] | None = None
    ) -> TreePairModel:
        """Training only: needs the train extra's scikit-learn and skl2onnx."""
        from skl2onnx import to_onnx
        from sklearn.ensemble import HistGradientBoostingClassifier

        chosen = {**TREE_PARAMETERS, **(parameters or {})}
        trees = HistGradientBoostingClassifier(**chosen).fit(x, y)
        graph = to_onnx(
            trees,
            x[:1].astype(np.float32),
            options={id(trees): {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
        return cls(graph.SerializeToString(), chosen)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.onnx).hexdigest()

    @cached_property
    def _session(self) -> tuple[Any, str]:
        """The onnxruntime session and its input name, made on first use."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One thread: a tree ensemble over a few dozen rows gains nothing from
        # more, and Beam's workers already use every core.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(self.onnx, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own, unexported types
            raise PairModelError(f"the coder's tree model cannot be loaded: {exc}") from None
        return session, session.get_inputs()[0].name

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0, dtype=np.float64)
        session, name = self._session
        _, probabilities = session.run(None, {name: np.ascontiguousarray(matrix, np.float32)})
        return probabilities[:, 1].astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": TREES,
            "onnx_base64": base64.b64encode(self.onnx).decode("ascii"),
            "onnx_sha256": self.sha256,
            "parameters": self.parameters,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreePairModel:
        onnx = base64.b64decode(data["onnx_base64"])
        if hashlib.sha256(onnx).hexdigest() != data["onnx_sha256"]:
            raise PairModelError("the coder's tree model does not match its recorded sha256")
        return cls(onnx, dict(data.get("parameters", {})))


def pair_model_from_dict(data: dict[str, Any]) -> PairModel:
    kinds = {LOGISTIC: LogisticPairModel, TREES: TreePairModel}
    kind = data.get("kind")
    if kind not in kinds:
        raise PairModelError(f"unknown pair model kind {kind!r}; this coder reads {sorted(kinds)}")
    return kinds[kind].from_dict(data)
