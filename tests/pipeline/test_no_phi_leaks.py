"""Planted canary PHI must never reach logs, stdout/stderr, the manifest, audit or quarantine."""

import json
import logging
import sqlite3

import pyarrow.parquet as pq

from tests.pipeline.helpers import run_export, write_jsonl

CANARY_NAME = "Zebulon Quackenbush"
CANARY_PHONE = "617-555-0142"
CANARY_MRN = "MRN: 88442211"
CANARIES = ["Zebulon", "Quackenbush", "555-0142", "88442211", "CANARYSECRET"]


def test_canaries_stay_out_of_everything_but_quarantine_text(tmp_path, run_key, capfd, caplog):
    notes = [
        {
            "note_id": "c1",
            "patient_id": "CANARYSECRET-PID",
            "text": f"Patient: {CANARY_NAME}\n{CANARY_MRN}\ncall {CANARY_PHONE}",
        },
        # duplicated: quarantined with its text carried to no output
        {"note_id": "c2", "patient_id": "p", "text": f"Dr. {CANARY_NAME} CANARYSECRET"},
        {"note_id": "c2", "patient_id": "p", "text": f"{CANARY_NAME} again CANARYSECRET"},
        # a note too long for the configured limit
        {"note_id": "c3", "patient_id": "p", "text": f"CANARYSECRET {CANARY_NAME} " * 50},
        # non-string text whose value is a canary
        {"note_id": "c4", "patient_id": "p", "text": ["CANARYSECRET", CANARY_NAME]},
        "{not json CANARYSECRET " + CANARY_NAME,
    ]
    path = write_jsonl(tmp_path / "in.jsonl", notes)
    config = tmp_path / "c.yaml"
    config.write_text("input:\n  max_text_chars: 1000\n")
    out = tmp_path / "out"
    caplog.set_level(logging.DEBUG)
    code = run_export(path, out, config=config)
    assert code == 0
    captured = capfd.readouterr()
    haystacks = {
        "stdout": captured.out,
        "stderr": captured.err,
        "logs": "\n".join(r.getMessage() for r in caplog.records),
        "manifest": (out / "manifest.json").read_text(),
        "quarantine": json.dumps(pq.read_table(out / "quarantine").to_pylist(), default=str),
        "audit": json.dumps(pq.read_table(out / "audit").to_pylist(), default=str),
        "notes": json.dumps(pq.read_table(out / "notes").to_pylist(), default=str),
        "phi_spans": json.dumps(pq.read_table(out / "phi_spans").to_pylist(), default=str),
    }
    db = sqlite3.connect(out.parent / f"{out.name}.audit.sqlite")
    haystacks["audit_db"] = json.dumps(
        [
            db.execute("SELECT * FROM deid_note_audit").fetchall(),
            db.execute("SELECT * FROM deid_runs").fetchall(),
        ],
        default=str,
    )
    db.close()
    for where, text in haystacks.items():
        for canary in CANARIES:
            assert canary not in text, f"canary {canary!r} leaked into {where}"
    assert len(pq.read_table(out / "quarantine")) == 5
