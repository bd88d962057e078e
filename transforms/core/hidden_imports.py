"""Keep torch and transformers out of a process that only de-identifies.

presidio-analyzer imports transformers, and spaCy's thinc imports torch, when
they are installed, though the blank spaCy pipeline that ``presidio_patterns``
runs uses neither. On a machine where the train or export extra (or a GPU
stack) is installed, that import costs seconds of start-up and a few hundred
MiB in every worker, for nothing. Both libraries treat an ImportError as
"not installed", so hiding the modules while presidio loads is enough.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The heavy optional imports of presidio-analyzer (transformers) and thinc (torch).
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
