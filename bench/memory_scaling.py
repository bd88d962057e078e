"""Peak memory of the default job at 1x, 10x and 100x the bundled sample.

Each size runs `deidcode run` (default config: bundled PHI, entity and coding
models, FnApiRunner in process, output.num_shards: auto) in a fresh process,
and a parent that does nothing else reads the child's peak RSS from
``getrusage(RUSAGE_CHILDREN)``. The copies of the sample get new note and
patient ids, so no note is a duplicate of another.

What is bounded and what is not: a shard's rows are grouped and sorted on one
worker, and ``auto`` gives a shard at most 32 MiB of input, so that part is
bounded by construction. FnApiRunner itself holds a stage's output in memory
between stages (it is a test runner); on a distributed runner that is the
runner's to spill. The growth per note measured here is therefore an upper
bound for what deidcode's own code holds.

Run: PYTHONPATH=. python bench/memory_scaling.py --sizes 1 10 100 \
        --out bench/results_memory.json   (not part of CI: minutes)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "sample_notes.csv"
# The child reports its own peak: a parent process that imports nothing heavy.
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'PEAK_KIB {peak} CODE {code}')\n"
)


def replicate_sample(target: Path, copies: int) -> int:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames or [], list(reader)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for copy in range(copies):
            for row in rows:
                suffix = f"-{copy:04d}"
                writer.writerow(
                    {
                        **row,
                        "note_id": row["note_id"] + suffix if row["note_id"] else "",
                        "patient_id": row["patient_id"] + suffix if row["patient_id"] else "",
                    }
                )
    return copies * len(rows)


def run_size(folder: Path, copies: int) -> dict:
    export = folder / f"notes-{copies}x.csv"
    records = replicate_sample(export, copies)
    out = folder / f"run-{copies}x"
    command = [
        sys.executable,
        "-c",
        MEASURE,
        sys.executable,
        "-m",
        "pipeline.cli",
        "run",
        "--input",
        str(export),
        "--format",
        "csv",
        "--output",
        str(out),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    seconds = time.perf_counter() - started
    peak_line = next(line for line in done.stdout.splitlines() if line.startswith("PEAK_KIB"))
    _, peak_kib, _, code = peak_line.split()
    manifest = json.loads((out / "manifest.json").read_text()) if int(code) == 0 else {}
    counts = manifest.get("counts", {})
    return {
        "copies": copies,
        "records": records,
        "input_bytes": export.stat().st_size,
        "exit_code": int(code),
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(int(peak_kib) / 1024, 1),
        "num_shards": manifest.get("num_shards"),
        "notes_written": counts.get("notes_written"),
        "records_quarantined": counts.get("records_quarantined"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results_memory.json")
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "memory-benchmark-key-not-a-secret-0123456789")
    results = []
    with tempfile.TemporaryDirectory(prefix="deidcode-memory-") as tmp:
        for copies in args.sizes:
            result = run_size(Path(tmp), copies)
            print(json.dumps(result), flush=True)
            results.append(result)
    base = results[0]
    for result in results[1:]:
        extra = result["peak_rss_mib"] - base["peak_rss_mib"]
        result["extra_kib_per_record"] = round(
            extra * 1024 / (result["records"] - base["records"]), 2
        )
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": "PYTHONPATH=. python bench/memory_scaling.py --sizes "
        + " ".join(map(str, args.sizes)),
        "runs": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
