import contextlib
import os
import signal

import pytest

from pipeline.signals import (
    Terminated,
    failure_reason,
    received,
    stop_if_signalled,
    terminate_on_signals,
)


def test_sigterm_raises_terminated_inside_the_block_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as stop, terminate_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
    assert stop.value.exit_code == 143 and str(stop.value) == "SIGTERM"
    assert received() is not None and received().exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_failure_reasons():
    with terminate_on_signals():
        assert received() is None
        assert failure_reason(RuntimeError("x")) == "RuntimeError"
        assert failure_reason(KeyboardInterrupt()) == "terminated"
        assert failure_reason(Terminated(signal.SIGINT)) == "terminated"


def test_a_swallowed_termination_still_stops_the_run_at_the_next_check():
    with terminate_on_signals():
        # What a library that catches BaseException in a bundle does:
        with contextlib.suppress(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(Terminated):
            stop_if_signalled()


def test_a_termination_swallowed_during_setup_stops_the_run_before_its_pipeline(tmp_path):
    """A SIGTERM whose exception a library swallows while the run sets up (a migration,
    a model load) must not let the whole pipeline run first."""
    import datetime as dt

    import apache_beam as beam

    from pipeline.lifecycle import StagedRun

    marker = tmp_path / "pipeline-ran"
    run = StagedRun("r1", dt.datetime.now(dt.UTC), str(tmp_path / "out"), str(tmp_path))

    def build(pipeline):
        _ = pipeline | beam.Create([1]) | beam.Map(lambda _: marker.write_text("ran"))

    with terminate_on_signals():
        with contextlib.suppress(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)  # what a library catching BaseException does
        with pytest.raises(Terminated):
            run.run_pipeline([], build)
    assert not marker.exists()
