"""``deidcode check``: everything a run would check, without running it.

For the CI of a hospital's own job: the config, the key, the input files and
their columns, the models (sha256 against their manifests, and the runtime that
would be chosen), the output directory and the audit database are checked as a
run checks them, and the first records are read and validated, so a wrong column
mapping shows before the night. Nothing is written: not the output, not the
audit database, not a staging directory.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.audit_writer import AuditDatabase, safe_url
from pipeline.failures import describe_os_error, existing_ancestor
from pipeline.job import PreparedRun, RunRequest, audit_url, configured_audit_url, prepare_run
from pipeline.lifecycle import OutputDirError, check_output_dir
from pipeline.stale_runs import find_stale_staging
from schemas.audit_db import HEAD_REVISION
from transforms.core.records import Quarantined
from transforms.ingest.validate import validate_record
from transforms.io.readers import read_records


@dataclass
class CheckReport:
    """What a run with these settings would do."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, label: str, value: Any) -> None:
        self.lines.append((label, str(value)))

    def render(self) -> str:
        width = max(len(label) for label, _ in self.lines)
        return "".join(f"{label:<{width}}  {value}\n" for label, value in self.lines)


def check_writable(output: str) -> None:
    """The output's nearest existing ancestor accepts a new directory, as staging needs."""
    ancestor = existing_ancestor(os.path.dirname(os.path.abspath(output)))
    try:
        probe = tempfile.mkdtemp(prefix=".deidcode-check-", dir=ancestor)
    except OSError as exc:
        raise OutputDirError(
            f"output {output}: cannot create directories in {ancestor}: {describe_os_error(exc)}"
        ) from None
    os.rmdir(probe)


def audit_database_state(url: str) -> str:
    """Whether the audit database is reachable and at which schema revision; nothing is
    created or migrated (a SQLite file that does not exist yet is not opened)."""
    database = AuditDatabase(url)
    try:
        if database.is_unborn_sqlite_file():
            return f"{safe_url(url)} (created by the run)"
        revision = database.schema_revision()
    finally:
        database.dispose()
    if revision is None:
        return f"{safe_url(url)} (reachable; the run creates the schema)"
    if revision != HEAD_REVISION:
        return f"{safe_url(url)} (schema {revision}; the run upgrades it to {HEAD_REVISION})"
    return f"{safe_url(url)} (schema {revision}, current)"


def sample_outcomes(prepared: PreparedRun, limit: int) -> Counter[str]:
    """Validate the first ``limit`` records as the run would: ``valid`` or the reason
    each would be quarantined for (duplicates and detector failures need a run)."""
    outcomes: Counter[str] = Counter()
    records = itertools.chain.from_iterable(
        read_records(path, prepared.request.fmt, prepared.inputs.options) for path in prepared.files
    )
    for raw in itertools.islice(records, limit):
        result = validate_record(raw, prepared.config.input)
        outcomes[result.reason if isinstance(result, Quarantined) else "valid"] += 1
    return outcomes


def check_run(request: RunRequest, *, sample_records: int = 1000) -> CheckReport:
    """Check a run's settings as ``run_deid`` would; raise its errors, or report."""
    prepared = prepare_run(request)  # config, key, inputs, columns, models
    report = CheckReport()
    config = prepared.config
    report.add("config", request.config_path or "embedded defaults")
    report.add("config sha256", config.sha256())
    report.add("key fingerprint", prepared.key_fingerprint)
    sizes = prepared.inputs.total_bytes()
    if sizes is None:
        query = prepared.inputs.options.query
        report.add(
            "input",
            f"{request.fmt} query on {prepared.inputs.display_url}, "
            f"read in {query.partitions if query else 1} partition(s)",
        )
    else:
        report.add("input", f"{len(prepared.files)} {request.fmt} file(s), {sizes:,} bytes")
    for skipped in prepared.skipped_inputs:
        report.add("  skipped", f"{skipped['path']} ({skipped['reason']})")
    outcomes = sample_outcomes(prepared, sample_records)
    checked = sum(outcomes.values())
    report.add(
        "first records",
        f"{checked:,} read: {outcomes.get('valid', 0):,} valid"
        + "".join(
            f", {n:,} {reason}" for reason, n in sorted(outcomes.items()) if reason != "valid"
        ),
    )
    for description in (d.describe() for d in prepared.components.detectors):
        report.add("detector", f"{description['name']} {description['version']}")
    for model in prepared.models:
        report.add(
            "model",
            f"{model['name']} {model['version']}: {model['variant']} on {model['provider']} "
            "(sha256 verified)",
        )
    for span_filter in prepared.components.filters:
        described = span_filter.describe()
        report.add("span filter", f"{described['name']} {described['version']}")
    entity_step = prepared.components.entities
    report.add(
        "entity step",
        "off (entities.enabled: false)"
        if entity_step is None
        else f"on: {entity_step.describe()['model']}, rules "
        + ", ".join(str(p) for p in entity_step.rule_files),
    )
    coding_step = prepared.components.coding
    if coding_step is None:
        report.add("coding step", "off (coding.enabled: false)")
    else:
        described = coding_step.describe()
        negated = "coded" if described["include_negated"] else "not coded"
        report.add(
            "coding step",
            f"on: {described['coder_model']} (sha256 verified), threshold "
            f"{described['threshold']:.4f}, negated mentions {negated}, "
            f"historical as {described['historical']}",
        )
    policy = prepared.components.policy
    report.add("redaction", f"default {policy.default.name}")
    for phi_type, operator in sorted(policy.by_phi_type.items()):
        report.add(f"  {phi_type}", operator.name)
    for subtype, operator in sorted(policy.by_subtype.items()):
        report.add(f"  {subtype}", operator.name)
    if prepared.components.reserves_words:
        report.add(
            "surrogates",
            "one patient at a time, against the surrogate ledger in the audit database",
        )
    output = os.path.abspath(request.output) if request.output else None
    if output is not None:
        check_output_dir(output, request.overwrite)
        check_writable(output)
        replaced = ", replaced on success" if request.overwrite else ""
        report.add("output", f"{output} (writable{replaced})")
        stale = find_stale_staging(output, lease=request.stale_after, now=dt.datetime.now(dt.UTC))
        for path in stale:
            report.add("  stale staging", f"{path} (a run would report it)")
    url = audit_url(request, config, output) if output else configured_audit_url(request, config)
    if url is not None:
        report.add("audit database", audit_database_state(url))
    report.add(
        "thresholds",
        f"--min-records {request.min_records}, --max-quarantine-rate "
        f"{request.max_quarantine_rate if request.max_quarantine_rate is not None else 'off'}",
    )
    return report
