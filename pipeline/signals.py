"""Turning SIGTERM and SIGINT into an exception, so a killed run cleans up like a failed one.

Airflow and Kubernetes stop a task with SIGTERM, then SIGKILL after a grace
period. By default SIGTERM ends Python at once, leaving the staging directory
and a ``running`` audit row behind. Inside ``terminate_on_signals`` both
signals raise ``Terminated`` in the main thread instead: ``staged_run``
removes the staging directory, the audit row is marked failed with reason
``terminated``, and the CLI exits with 128 + the signal number (143, 130).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGTERM, signal.SIGINT)


class Terminated(BaseException):  # noqa: N818 - it reads as what happened, like KeyboardInterrupt
    """The process was asked to stop. A BaseException, so that ``except Exception``
    in library code does not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


# The signal that asked this process to stop, if one did. Libraries may catch the
# exception and raise their own (Beam re-raises a bundle's failure as a
# RuntimeError), so whatever surfaces after a signal is read as a termination.
_received: list[int] = []


def _raise(signum: int, frame: FrameType | None) -> None:
    if _received:
        return  # a second signal must not interrupt the cleanup the first one started
    _received.append(signum)
    raise Terminated(signum)


def received() -> Terminated | None:
    """The termination a signal asked for, if one arrived inside ``terminate_on_signals``."""
    return Terminated(_received[0]) if _received else None


def _quiet_unraisable(previous_hook):
    """A signal that lands inside a ``__del__`` (the regex module's, while presidio
    compiles its patterns) raises where Python cannot propagate it, and Python would
    print "Exception ignored" with a traceback. The signal is recorded all the same
    and ``stop_if_signalled`` acts on it, so that report is dropped."""

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, Terminated):
            return
        previous_hook(unraisable)

    return hook


@contextmanager
def terminate_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise ``Terminated``; handlers are restored after."""
    _received.clear()
    previous = {signum: signal.signal(signum, _raise) for signum in HANDLED}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_if_signalled() -> None:
    """Raise ``Terminated`` if a signal arrived, even one whose exception a library
    swallowed (Beam may catch it inside a bundle and carry on)."""
    stop = received()
    if stop is not None:
        raise stop


def failure_reason(exc: BaseException) -> str:
    """What the audit row records for a failed run: ``terminated`` for a signal or Ctrl-C."""
    if _received or isinstance(exc, Terminated | KeyboardInterrupt):
        return "terminated"
    return type(exc).__name__
