"""Logging filters for third-party noise that says nothing to a deidcode operator."""

from __future__ import annotations

import logging

# Beam's RunInference measures a worker's memory after loading a model with the
# ``resource`` module, but imports it only together with its ModelManager, which
# needs scipy; without scipy (a worker needs none) it warns at every model load.
_BEAM_MEMORY_WARNING = "Resource module is not available for current platform"


class BeamMemoryWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_BEAM_MEMORY_WARNING)


def drop_beam_memory_warning() -> None:
    """Install the filter on the root logger (Beam logs it there), once per process."""
    root = logging.getLogger()
    if not any(isinstance(f, BeamMemoryWarningFilter) for f in root.filters):
        root.addFilter(BeamMemoryWarningFilter())
