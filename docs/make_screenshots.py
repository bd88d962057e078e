"""Make the screenshots in docs/ from real runs: the progress display and summary of
`deidcode run`, and an eval report, both rendered by headless Chromium.

    PYTHONPATH=. python docs/make_screenshots.py \
        --report build/phi_suite/asqphi_dev/report/report.html

The terminal is a real pseudo-terminal: the run draws its live line as it would for
a person at a shell; one frame of it is kept, with the summary table that follows.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

from tests.browser import screenshot  # the headless Chromium the page tests use
from tests.terminal import run_on_terminal

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
KEY = "docs-screenshot-key-0123456789abcdef0123"


def run_in_terminal(command: list[str]) -> tuple[str, str]:
    """Run ``command`` with stderr on a pseudo-terminal; (a frame of the live progress
    line, stdout)."""
    env = {**os.environ, "DEIDCODE_KEY": KEY, "COLUMNS": "110"}
    _, stream, stdout = run_on_terminal(command, cwd=ROOT, env=env)
    frames = [frame for frame in re.split(r"\r|\x1b\[2K|\x1b\[1A", stream) if "released" in frame]
    return (frames[len(frames) // 2] if frames else ""), stdout


def progress_screenshot(export: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="deid-") as tmp:
        output = Path(tmp) / "2026-12-01"
        command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(export),
                   "--format", "csv", "--output", str(output)]  # fmt: skip
        frame, stdout = run_in_terminal(command)
    console = Console(record=True, width=104, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(Text(f"$ deidcode run --input {export.name} --format csv --output {output}",
                       style="bold"))  # fmt: skip
    console.print(Text.from_ansi(frame.strip()))
    console.print(Text("… when it finishes:", style="dim"))
    console.print(Text(stdout))
    svg = DOCS / "progress.svg"
    console.save_svg(str(svg), title="deidcode run")
    width, height = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text()).groups()
    png = DOCS / "progress.png"
    screenshot(svg, png, width=int(float(width)), height=int(float(height)))
    svg.unlink()
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, default=ROOT / "examples" / "sample_notes.csv")
    parser.add_argument("--report", type=Path, help="a report.html written by deidcode eval phi")
    args = parser.parse_args()
    print(progress_screenshot(args.export))
    if args.report:
        png = DOCS / "eval-report.png"
        screenshot(args.report, png, width=1280, height=1500)
        print(png)


if __name__ == "__main__":
    main()
