"""Repeat the HCC and de-identification jobs on Beam's local multi-process mode and
record, for every run, what its files hold against what the runner's counters say.

An earlier session saw 2 of 11 multi-process `hcc score` runs fail their count
check. The check then compared runner counters with written rows, so a failure
could be lost rows or lost metrics. Now the check counts the read step's own
files; this script tells the two apart by reading both.

Run: PYTHONPATH=. python bench/multiprocess_runs.py --runs 20 --records 20000 \
        --out bench/results_multiprocess.json   (not part of CI: minutes per run)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench.bench_hcc import make_members, write_inputs
from pipeline import hcc_job, job
from pipeline.cli import main
from pipeline.lifecycle import committed_counter

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def recording_counters(seen: dict[str, int]):
    def record(result, name: str) -> int:
        value = committed_counter(result, name)
        seen[name] = value
        return value

    return record


def deid_notes(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            text = f"Seen by Dr. Roe on 3/{rng.randint(1, 28)}. BP {rng.randint(100, 160)}/80."
            handle.write(json.dumps({"note_id": f"n{i}", "patient_id": f"p{i % 97}", "text": text}))
            handle.write("\n")


def run_once(kind: str, folder: Path, number: int) -> dict:
    seen: dict[str, int] = {}
    out = folder / f"{kind}-{number}"
    started = time.perf_counter()
    with (
        mock.patch.object(job, "committed_counter", recording_counters(seen)),
        mock.patch.object(hcc_job, "committed_counter", recording_counters(seen)),
    ):
        if kind == "hcc":
            args = [
                "hcc",
                "score",
                "--members",
                str(folder / "members.csv"),
                "--diagnoses",
                str(folder / "diagnoses.csv"),
                "--payment-year",
                "2026",
                "--output",
                str(out),
            ]
        else:
            args = [
                "run",
                "--input",
                str(folder / "notes.jsonl"),
                "--format",
                "jsonl",
                "--output",
                str(out),
                "--config",
                str(folder / "patterns.yaml"),
                "--no-progress",
            ]
        code = main([*args, *MULTI])  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text()) if code == 0 else {}
    return {
        "kind": kind,
        "run": number,
        "exit": code,
        "seconds": round(time.perf_counter() - started, 1),
        "counts_from_files": manifest.get("counts", {}),
        "runner_counters": seen,
    }


def main_script() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kinds", nargs="+", choices=("hcc", "deid"), default=["hcc", "deid"])
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "multiprocess-bench-key-0123456789abcdef")
    results = []
    with tempfile.TemporaryDirectory(prefix="deidcode-multiprocess-") as name:
        folder = Path(name)
        write_inputs(make_members(args.records, 2026, seed=7), folder, 2026)
        deid_notes(folder / "notes.jsonl", args.records, seed=7)
        (folder / "patterns.yaml").write_text(
            "detection:\n  detectors: [{name: presidio_patterns}]\n"
            "entities: {enabled: false}\ncoding: {enabled: false}\n"
        )
        for number in range(args.runs):
            for kind in args.kinds:
                result = run_once(kind, folder, number)
                results.append(result)
                print(json.dumps(result), flush=True)
                _write_summary(args, results)  # as it goes: a long series may be cut short
    return _write_summary(args, results)


def _write_summary(args: argparse.Namespace, results: list[dict]) -> int:
    failed = [r for r in results if r["exit"] != 0]
    dropped = [
        r
        for r in results
        if r["exit"] == 0
        and any(
            value != r["counts_from_files"].get(key, value)
            for key, value in {
                "members_read": r["runner_counters"].get("hcc_members_read"),
                "records_read": r["runner_counters"].get("records_read"),
            }.items()
            if value
        )
    ]
    summary = {
        "runs": len(results),
        "failed": len(failed),
        "counter_disagrees_with_files": len(dropped),
        "records": args.records,
        "mode": MULTI,
        "results": results,
    }
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main_script())
