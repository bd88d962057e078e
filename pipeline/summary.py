"""The table printed at the end of a run: counts by outcome, quarantine reasons, time
per stage and where the outputs are. IDs and counts only, never note text."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from pipeline.job import RunSummary


def summary_table(summary: RunSummary, *, width: int = 88) -> str:
    """The summary as plain text (rich's box drawing, no colour codes), for a terminal
    and for a scheduler's log alike."""
    table = Table(title=f"deidcode run {summary.run_id}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_column("share", justify="right")
    read = summary.records_read or 1
    table.add_row("records read", f"{summary.records_read:,}", "")
    table.add_row(
        "notes released", f"{summary.notes_written:,}", f"{summary.notes_written / read:.1%}"
    )
    table.add_row(
        "records quarantined",
        f"{summary.records_quarantined:,}",
        f"{summary.records_quarantined / read:.1%}",
    )
    for reason, n in sorted(summary.quarantine_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", f"{n:,}", f"{n / read:.1%}")
    table.add_row("PHI spans redacted", f"{summary.phi_spans:,}", "")
    if summary.entities is not None:
        table.add_row("clinical entities", f"{summary.entities:,}", "")
    if summary.codes is not None:
        table.add_row("ICD-10-CM codes listed", f"{summary.codes:,}", "")
    if summary.skipped_inputs:
        table.add_row("input files skipped", f"{summary.skipped_inputs:,}", "see manifest")
    table.add_section()
    total = sum(summary.stage_seconds.values()) or 1.0
    for stage, seconds in summary.stage_seconds.items():
        table.add_row(f"time: {stage}", f"{seconds:,.1f} s", f"{seconds / total:.0%}")
    if summary.stage_seconds.get("pipeline"):
        rate = summary.notes_written / summary.stage_seconds["pipeline"]
        table.add_row("notes/s in the pipeline", f"{rate:,.1f}", "")
    table.add_section()
    table.add_row("output", summary.output, "")
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, force_terminal=False).print(table)
    return buffer.getvalue()
