"""The surrogate ledger through real runs: a word keeps its surrogate across runs that
share an audit database (SQLite and PostgreSQL), and fresh runs are byte-identical."""

import csv
import hashlib

from tests.conftest import REPO_ROOT, SAMPLE_CSV
from tests.pipeline.helpers import manifest, query, run_export, table

CONFIG = REPO_ROOT / "examples" / "research_release.yaml"


def first_rows(tmp_path, count: int):
    """The sample's header and first ``count`` rows, as a new CSV export."""
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path / "first.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:count])
    return path


def ledger_rows(url: str) -> list[tuple]:
    return query(url, "SELECT patient_id, word_digest, surrogate FROM deid_surrogate_ledger")


def by_note(out) -> dict[str, dict]:
    return {row["note_id"]: row for row in table(out, "notes")}


def check_runs_share_surrogates(tmp_path, audit_url: str) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_export(first_rows(tmp_path, 20), first, "--audit-db", audit_url, fmt="csv",
                      config=CONFIG) == 0  # fmt: skip
    after_first = ledger_rows(audit_url)
    assert manifest(first)["surrogate_ledger"] == {"used": True, "new_entries": len(after_first)}
    assert run_export(SAMPLE_CSV, second, "--audit-db", audit_url, fmt="csv", config=CONFIG) == 0
    after_second = ledger_rows(audit_url)
    # The second run kept every entry and added only the words it saw first.
    assert set(after_first) < set(after_second)
    assert manifest(second)["surrogate_ledger"]["new_entries"] == len(after_second) - len(
        after_first
    )
    # No patient has two words on one surrogate.
    assert len({(p, s) for p, _, s in after_second}) == len(after_second)
    earlier, later = by_note(first), by_note(second)
    # The full sample repeats a note id the first rows hold once: that one is quarantined.
    common = set(earlier) & set(later)
    assert len(common) == 19
    for note_id in common:
        assert later[note_id]["text_deid"] == earlier[note_id]["text_deid"], note_id
        assert later[note_id]["patient_name"] == earlier[note_id]["patient_name"], note_id
    # Nothing of the ledger is left in the run directories.
    for out in (first, second):
        assert not list(out.rglob("*ledger*"))


def test_a_word_keeps_its_surrogate_across_runs_on_sqlite(tmp_path, run_key):
    check_runs_share_surrogates(tmp_path, f"sqlite:///{tmp_path / 'audit.sqlite'}")


def test_a_word_keeps_its_surrogate_across_runs_on_postgresql(tmp_path, run_key, postgres_url):
    check_runs_share_surrogates(tmp_path, postgres_url)


def test_fresh_runs_with_surrogates_are_byte_identical(tmp_path, run_key):
    files = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert run_export(SAMPLE_CSV, out, "--direct_num_workers=1", fmt="csv", config=CONFIG) == 0
        files.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.parquet"))
                      if p.parts[-2] in ("notes", "phi_spans", "entities")})  # fmt: skip
    assert files[0] == files[1]


def test_the_audit_digest_is_keyed(tmp_path, run_key):
    out = tmp_path / "out"
    assert run_export(SAMPLE_CSV, out, fmt="csv", config=CONFIG) == 0
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        unkeyed = {
            hashlib.sha256(row["text"].encode()).hexdigest() for row in csv.DictReader(handle)
        }
    digests = {row["text_hmac"] for row in table(out, "audit") if row["text_hmac"]}
    assert len(digests) >= 47 and not digests & unkeyed
    assert (
        hashlib.sha256(SAMPLE_CSV.read_bytes()).hexdigest()
        not in (out / "manifest.json").read_text()
    )
