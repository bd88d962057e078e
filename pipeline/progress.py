"""Live progress of a run: records read, notes released, quarantined, and notes/s.

Beam's FnApiRunner reports its counters only when the pipeline has finished, so
the pipeline ticks these process-wide counters itself (``count``, a pass-through
step after reading, releasing and quarantining). With the default in-process
runner they are live; where workers are other processes or machines
(``--direct_running_mode=multi_processing``, Dataflow) they stay at zero here,
and the display says so instead of showing zeros as if nothing happened.

On a terminal a rich progress line is redrawn; without one (cron, Airflow) a log
line is written every ``interval`` seconds. Neither ever shows note text.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline.signals import stop_if_signalled

LOGGER = logging.getLogger("deidcode")

READ = "read"
RELEASED = "released"
QUARANTINED = "quarantined"


class _Counters:
    """Thread-safe counts, shared by every bundle of an in-process pipeline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {READ: 0, RELEASED: 0, QUARANTINED: 0}

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(self._counts, 0)


COUNTERS = _Counters()


def count(element: object, *, name: str) -> None:
    """A pipeline step's tick: one element reached ``name``.

    It also stops the run at the next element after a signal whose exception Beam
    swallowed inside a bundle: without this check such a run went on to its end.
    On remote workers no signal is recorded, and the check does nothing."""
    stop_if_signalled()
    COUNTERS.add(name)


IN_PROCESS_RUNNERS = ("FnApiRunner", "DirectRunner")


def live_counts_available(beam_args: Sequence[str]) -> bool:
    """Whether workers run in this process, so ticks reach ``COUNTERS``."""
    for arg in beam_args:
        name, _, value = arg.partition("=")
        if name == "--runner" and value.rsplit(".", 1)[-1] not in IN_PROCESS_RUNNERS:
            return False
        if name == "--direct_running_mode" and value != "in_memory":
            return False
        if name == "--environment_type":
            return False
    return True


@dataclass(frozen=True)
class ProgressSettings:
    enabled: bool = True
    interval_s: float = 60.0  # the log line's period without a terminal


def describe(counts: dict[str, int], elapsed: float, *, live: bool) -> str:
    """``read N, released M, quarantined Q, R notes/s`` (no elapsed time: callers add it)."""
    if not live:
        return "counts come at the end with this runner"
    rate = counts[RELEASED] / elapsed if elapsed > 0 else 0.0
    return (
        f"read {counts[READ]:,}, released {counts[RELEASED]:,}, "
        f"quarantined {counts[QUARANTINED]:,}, {rate:,.1f} notes/s"
    )


@contextmanager
def show_progress(
    run_id: str, settings: ProgressSettings, beam_args: Sequence[str]
) -> Iterator[None]:
    """Show the progress of the run that ``beam_args`` configure while the block runs,
    then stop the display."""
    COUNTERS.reset()
    if not settings.enabled:
        yield
        return
    stop = threading.Event()
    started = time.monotonic()
    display = _terminal if sys.stderr.isatty() else _log_lines
    live = live_counts_available(beam_args)
    worker = threading.Thread(
        target=display, args=(run_id, settings, live, stop, started), daemon=True
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=5)


def _log_lines(
    run_id: str, settings: ProgressSettings, live: bool, stop: threading.Event, started: float
) -> None:
    while not stop.wait(settings.interval_s):
        elapsed = time.monotonic() - started
        status = describe(COUNTERS.snapshot(), elapsed, live=live)
        LOGGER.info("run %s: %s after %.0f s", run_id, status, elapsed)


def _terminal(
    run_id: str, settings: ProgressSettings, live: bool, stop: threading.Event, started: float
) -> None:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # the summary table replaces it at the end
    ) as progress:
        task = progress.add_task(f"run {run_id}", status="starting", total=None)
        while not stop.wait(0.5):
            elapsed = time.monotonic() - started
            status = describe(COUNTERS.snapshot(), elapsed, live=live)
            progress.update(task, status=status)
