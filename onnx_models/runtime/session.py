"""One onnxruntime session, set up the same way for every model deidcode runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort


def open_session(
    path: Path, *, providers: Sequence[str], intra_op_num_threads: int = 0
) -> ort.InferenceSession:
    """Full graph optimisation, one inter-op thread (the models are one chain of
    layers) and warnings only, so onnxruntime's own logs stay quiet."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_op_num_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))
