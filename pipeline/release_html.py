"""The re-identification report of a release (``release_report.html``): counts,
figures and pseudonyms, never note text or quasi-identifier values beyond a
group's own combination."""

from __future__ import annotations

import html
from typing import Any

from transforms.evaluation.release_risk import KAnonymity, MissedPhi

# What each operator leaves an adversary, in one line (docs/threat-model.md says more).
OPERATOR_REVEALS = {
    "tag": "that a value of this type was there; nothing of the value",
    "mask": "the value's length (one mask character per character)",
    "remove": "nothing, not even that a value was there",
    "hash": "a keyed pseudonym: equal values match across notes under one key",
    "surrogate": (
        "a realistic stand-in: names from the pools, formats of IDs and phones, "
        "nothing of the original's length or letters; equal values match per patient"
    ),
    "date_shift": "intervals between one patient's dates; not the dates",
    "generalize": "the coarse value (year, ZIP3, 90+) that Safe Harbor allows",
}


def _operator_rows(redaction: dict[str, Any] | None) -> str:
    if not redaction:
        return '<tr><td colspan="3">the run manifest does not describe its redaction</td></tr>'
    rows = [("text, any type not listed", redaction.get("default", "?"))]
    rows += [(f"text, {t}", op) for t, op in redaction.get("phi_types", {}).items()]
    rows += [(f"text, subtype {s}", op) for s, op in redaction.get("subtypes", {}).items()]
    rows += [(f"column {c}", op) for c, op in redaction.get("columns", {}).items()]
    return "".join(
        f"<tr><td>{html.escape(what)}</td><td>{html.escape(op)}</td>"
        f"<td>{html.escape(OPERATOR_REVEALS.get(op, 'released as is' if op == 'keep' else ''))}"
        "</td></tr>"
        for what, op in rows
    )


def _missed_rows(missed: list[MissedPhi]) -> tuple[str, float | None]:
    rows, total = [], 0.0
    for row in missed:
        recall = "no figure" if row.recall is None else f"{row.recall:.4f}"
        estimate = (
            "n/a" if row.missed_per_1000_notes is None else f"{row.missed_per_1000_notes:.1f}"
        )
        total += row.missed_per_1000_notes or 0.0
        rows.append(
            f"<tr><td>{html.escape(row.phi_type)}</td><td>{row.detected_tokens}</td>"
            f"<td>{recall}</td><td>{estimate}</td></tr>"
        )
    known = any(row.missed_per_1000_notes is not None for row in missed)
    return "".join(rows), (total if known else None)


def _group_rows(anonymity: KAnonymity) -> str:
    return "".join(
        "<tr><td>"
        + html.escape(", ".join("∅" if v is None else str(v) for v in group.values))
        + f"</td><td>{len(group.patients)}</td><td>"
        + html.escape(" ".join(group.patients))
        + "</td></tr>"
        for group in anonymity.small_groups
    )


def render_release_report(
    *,
    manifest: dict[str, Any],
    anonymity: KAnonymity,
    missed: list[MissedPhi],
    recall_source: str | None,
) -> str:
    escape = html.escape
    tables = "".join(
        f"<tr><td>{escape(name)}</td><td>{sum(f['rows'] for f in files)}</td>"
        f"<td>{escape(', '.join(manifest['withheld_columns'].get(name, [])) or 'none')}</td></tr>"
        for name, files in manifest["tables"].items()
    )
    missed_rows, missed_total = _missed_rows(missed)
    missed_summary = (
        f"<p id='missed-total'>Expected missed PHI tokens per 1,000 notes: "
        f"<b>{missed_total:.1f}</b>, from {escape(recall_source or '')}.</p>"
        if missed_total is not None
        else "<p id='missed-total'>No PHI model with a token-recall figure ran: no estimate.</p>"
    )
    columns = ", ".join(anonymity.columns) or "none"
    if not anonymity.columns:
        verdict = "The release has no quasi-identifier columns to group on."
    else:
        verdict = (
            f"The release is {anonymity.smallest_group}-anonymous on these columns: "
            f"{len(anonymity.patients_below_k)} patient(s) are in groups smaller than "
            f"k = {anonymity.k} and are listed for suppression."
        )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Release report: {escape(str(manifest.get("source_run_id")))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:72em}}td,th{{padding:2px 10px;
text-align:left;vertical-align:top}}</style></head><body>
<h1>Re-identification report</h1>
<p>Release of run <code>{escape(str(manifest.get("source_run_id")))}</code>
(finished {escape(str(manifest.get("source_finished_at")))}), deidcode
{escape(str(manifest.get("deidcode_version")))}. This report stays with the releasing
team: it names the patients an adversary could single out.</p>
<h2>Tables released</h2>
<table id="tables"><tr><th>table</th><th>rows</th><th>columns withheld</th></tr>{tables}</table>
<h2>PHI the detectors are expected to have missed</h2>
{missed_summary}
<table id="missed"><tr><th>type</th><th>tokens redacted</th><th>token recall (model card)</th>
<th>expected missed per 1,000 notes</th></tr>{missed_rows}</table>
<p>The estimate is redacted tokens × (1 − recall) / recall. Recall on text unlike the
model card's evaluation set can be lower; docs/threat-model.md lists the measured figures.</p>
<h2>k-anonymity of the structured columns</h2>
<p>Quasi-identifiers: <code>{escape(columns)}</code>. Records (patient and values):
{anonymity.records}; groups: {anonymity.groups}.</p>
<p id="k-verdict">{escape(verdict)}</p>
<table id="small-groups"><tr><th>values</th><th>patients</th><th>pseudonyms</th></tr>
{_group_rows(anonymity)}</table>
<h2>Operators used</h2>
<table id="operators"><tr><th>what</th><th>operator</th><th>what it reveals</th></tr>
{_operator_rows(manifest.get("redaction"))}</table>
</body></html>
"""
