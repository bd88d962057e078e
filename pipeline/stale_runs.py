"""Debris of killed runs: staging directories and ``running`` audit rows past their lease.

A run killed with SIGKILL (a pod's grace period ran out, the host rebooted)
cannot clean up: its staging directory stays beside the output and its
``deid_runs`` row stays ``running``. A later run of the same output finds both
once they are older than the lease (``--stale-after``, longer than any run may
take), reports them, and marks the rows ``abandoned``. Removing the directories
is left to ``--clean-stale``, since a directory may be the only copy of tables a
person wants to inspect.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.audit_writer import AuditDatabase
from transforms.io import files

LOGGER = logging.getLogger("deidcode")

DEFAULT_LEASE = dt.timedelta(hours=24)

# Staging and swap-out directories are named by lifecycle.staged_run:
# .NAME.staging-RUN_ID and .NAME.staging-RUN_ID.replaced, RUN_ID = 20261201T021500Z-1a2b3c4d.
_RUN_STARTED = re.compile(r"(\d{8}T\d{6}Z)-[0-9a-f]{8}(?:\.replaced)?$")


@dataclass(frozen=True)
class StaleRuns:
    """What a run found of earlier, killed runs of the same output."""

    lease_hours: float
    staging_dirs: tuple[str, ...] = ()
    removed_dirs: tuple[str, ...] = ()
    removal_errors: tuple[str, ...] = ()
    abandoned_run_ids: tuple[str, ...] = ()

    def to_manifest(self) -> dict[str, object]:
        return {
            "lease_hours": self.lease_hours,
            "staging_dirs": list(self.staging_dirs),
            "staging_dirs_removed": list(self.removed_dirs),
            "abandoned_run_ids": list(self.abandoned_run_ids),
        }


def staging_started_at(name: str) -> dt.datetime | None:
    """The start time a staging directory's name records, or None for another name."""
    match = _RUN_STARTED.search(name)
    if match is None:
        return None
    return dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def find_stale_staging(
    output: str, *, lease: dt.timedelta, now: dt.datetime, exclude: Sequence[str] = ()
) -> list[str]:
    """Staging directories of ``output`` whose run started longer than ``lease`` ago.

    A younger one may belong to a run still going (another scheduler attempt), so
    it is left alone; so is anything whose name is not a staging name."""
    output = files.absolute(output).rstrip("/")
    parent, base = files.dirname(output), files.basename(output)
    prefix = f".{base}.staging-"
    try:
        entries = files.directory_entries(parent)
    except FileNotFoundError:
        return []
    stale = []
    for name, path, is_file in entries:
        if not name.startswith(prefix) or path in exclude or is_file:
            continue
        started = staging_started_at(name)
        if started is not None and now - started > lease:
            stale.append(path)
    return stale


def remove_staging(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Remove stale staging directories: those removed, and why others could not be."""
    removed, errors = [], []
    for path in paths:
        try:
            if files.is_remote(path):
                files.delete_tree(path)
            else:
                shutil.rmtree(path)
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or type(exc).__name__}")
        else:
            removed.append(path)
    return removed, errors


def report(stale: StaleRuns) -> None:
    """Log what was found, so the on-call person sees it in the night's log."""
    for run_id in stale.abandoned_run_ids:
        LOGGER.warning(
            "run %s was still 'running' after %.0f h: marked abandoned (killed?)",
            run_id,
            stale.lease_hours,
        )
    for path in stale.staging_dirs:
        if path in stale.removed_dirs:
            LOGGER.warning("removed the stale staging directory %s (--clean-stale)", path)
        else:
            LOGGER.warning(
                "stale staging directory %s of a killed run is left in place; "
                "inspect it, then remove it or re-run with --clean-stale",
                path,
            )
    for error in stale.removal_errors:
        LOGGER.warning("could not remove a stale staging directory: %s", error)


def sweep_stale_runs(
    output: str,
    *,
    current_staging: str,
    lease: dt.timedelta,
    clean: bool,
    audit_db: AuditDatabase | None,
    now: dt.datetime | None = None,
) -> StaleRuns:
    """Find (and with ``clean``, remove) stale staging directories of ``output``, mark
    its stale ``running`` rows abandoned, and log both."""
    now = now or dt.datetime.now(dt.UTC)
    dirs = find_stale_staging(output, lease=lease, now=now, exclude=[current_staging])
    removed, errors = remove_staging(dirs) if clean else ([], [])
    abandoned = audit_db.abandon_stale_runs(output, now - lease) if audit_db else []
    stale = StaleRuns(
        lease_hours=lease.total_seconds() / 3600,
        staging_dirs=tuple(dirs),
        removed_dirs=tuple(removed),
        removal_errors=tuple(errors),
        abandoned_run_ids=tuple(abandoned),
    )
    report(stale)
    return stale
