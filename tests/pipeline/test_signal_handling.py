import os
import signal

import pytest

from pipeline.signals import Terminated, failure_reason, received, terminate_on_signals


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
