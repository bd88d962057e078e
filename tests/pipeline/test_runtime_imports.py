"""Workers need only onnxruntime, tokenizers and numpy: no torch or transformers at run time."""

import subprocess
import sys

from tests.conftest import SAMPLE_CSV


def test_a_run_imports_neither_torch_nor_transformers(tmp_path):
    script = f"""
import os, sys
os.environ["DEIDCODE_KEY"] = "k" * 40
from pipeline.cli import main
assert main(["run", "--input", {str(SAMPLE_CSV)!r}, "--format", "csv",
             "--output", {str(tmp_path / "out")!r}]) == 0
heavy = sorted(m for m in ("torch", "transformers", "optimum") if m in sys.modules)
print("HEAVY", heavy)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout
    assert "apitools" not in result.stderr
