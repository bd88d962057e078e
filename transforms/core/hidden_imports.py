"""Keep torch and transformers out of a process that only de-identifies.

presidio-analyzer imports transformers, and spaCy's thinc and Beam's
RunInference (for its GPU model manager) import torch, when they are
installed, though the blank spaCy pipeline that ``presidio_patterns`` runs and
our ONNX model handlers use neither. On a machine where the train or export
extra (or a GPU stack) is installed, that costs about 5 s of start-up and 350
MiB in every process (BENCHMARKS.md, issue 18), for nothing. All three treat
an ImportError as "not installed", so hiding the modules while they load is
enough.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The heavy optional imports of presidio-analyzer (transformers), thinc and Beam (torch).
HIDDEN_MODULES = ("torch", "transformers")


@contextmanager
def ml_frameworks_hidden(names: tuple[str, ...] = HIDDEN_MODULES) -> Iterator[None]:
    """Within the block, importing any of ``names`` (torch and transformers) fails as
    if it were not installed, unless the process has already imported it; afterwards
    they import normally (a training script may import them later)."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes import raise ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
