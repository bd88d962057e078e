"""Beam's memory warning is dropped from the root logger; other warnings pass."""

import logging

from transforms.core.logging_filters import BeamMemoryWarningFilter, drop_beam_memory_warning


def test_only_the_beam_memory_warning_is_dropped(caplog):
    drop_beam_memory_warning()
    drop_beam_memory_warning()  # once per process, however often modules import it
    root = logging.getLogger()
    assert sum(isinstance(f, BeamMemoryWarningFilter) for f in root.filters) == 1
    with caplog.at_level(logging.WARNING):
        logging.warning(
            "Resource module is not available for current platform, memory usage cannot be fetched."
        )
        logging.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
