"""Peak memory of the default job at 1x, 10x and 100x the bundled sample.

Each size runs `deidcode run` (default config: bundled PHI, entity and coding
models, output.num_shards: auto) in a fresh process, on FnApiRunner in process
and in multi-process mode (2 SDK worker processes), while this script samples
the peak RSS (VmHWM) of the launcher and of every worker process from /proc.
The copies of the sample get new note and
patient ids, so no note is a duplicate of another.

What is bounded and what is not: a shard's rows are grouped and sorted on one
worker, and ``auto`` gives a shard at most 32 MiB of input, so that part is
bounded by construction. FnApiRunner itself holds a stage's output in memory
between stages (it is a test runner); on a distributed runner that is the
runner's to spill. Multi-process mode tells the two apart: the workers run
deidcode's code, the launcher runs the runner and its buffers.

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
MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    # The command name is in parentheses and may hold spaces.
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _peak_kib(pid: int) -> tuple[int, str] | None:
    """The process's peak resident set (VmHWM) and what it runs."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            peak = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except (OSError, StopIteration):
        return None
    return peak, command


def watch(command: list[str]) -> tuple[int, dict[int, tuple[int, str]]]:
    """Run ``command``, sampling every descendant's peak RSS until it exits."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, tuple[int, str]] = {}
    while process.poll() is None:
        for pid in _descendants(process.pid):
            sample = _peak_kib(pid)
            if sample is not None and sample[0] >= peaks.get(pid, (0, ""))[0]:
                peaks[pid] = sample
        time.sleep(0.25)
    process.communicate()
    return process.returncode, peaks


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


def run_size(folder: Path, copies: int, mode: str) -> dict:
    export = folder / f"notes-{copies}x.csv"
    records = replicate_sample(export, copies)
    out = folder / f"run-{copies}x-{mode}"
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(export)]
    command += ["--format", "csv", "--output", str(out), "--no-progress"]
    command += MULTI if mode == "multi-process" else []
    started = time.perf_counter()
    code, peaks = watch(command)
    seconds = time.perf_counter() - started
    workers = [kib for kib, what in peaks.values() if "sdk_worker_main" in what]
    others = [kib for kib, what in peaks.values() if "sdk_worker_main" not in what]
    manifest = json.loads((out / "manifest.json").read_text()) if code == 0 else {}
    counts = manifest.get("counts", {})
    return {
        "mode": mode,
        "copies": copies,
        "records": records,
        "input_bytes": export.stat().st_size,
        "exit_code": code,
        "seconds": round(seconds, 1),
        # The launcher runs the runner (FnApiRunner keeps every stage's output here).
        "launcher_peak_rss_mib": round(max(others, default=0) / 1024, 1),
        "worker_peak_rss_mib": round(max(workers) / 1024, 1) if workers else None,
        "num_shards": manifest.get("num_shards"),
        "notes_written": counts.get("notes_written"),
        "records_quarantined": counts.get("records_quarantined"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument(
        "--modes", nargs="+", choices=("in-process", "multi-process"),
        default=["in-process", "multi-process"],
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results_memory.json")
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "memory-benchmark-key-not-a-secret-0123456789")
    results = []
    with tempfile.TemporaryDirectory(prefix="deidcode-memory-") as tmp:
        for mode in args.modes:
            for copies in args.sizes:
                result = run_size(Path(tmp), copies, mode)
                print(json.dumps(result), flush=True)
                results.append(result)
    for result in results:
        base = next(r for r in results if r["mode"] == result["mode"])
        if result is not base:
            for role in ("launcher", "worker"):
                now, then = result[f"{role}_peak_rss_mib"], base[f"{role}_peak_rss_mib"]
                if now is not None and then is not None:
                    growth = (now - then) * 1024 / (result["records"] - base["records"])
                    result[f"{role}_extra_kib_per_record"] = round(growth, 2)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": "PYTHONPATH=. python bench/memory_scaling.py --sizes "
        + " ".join(map(str, args.sizes))
        + " --modes "
        + " ".join(args.modes),
        "runs": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
