"""Workers need only onnxruntime, tokenizers and numpy: a run must work without torch,
transformers or optimum installed, even on a machine where they are."""

import subprocess
import sys

from tests.conftest import SAMPLE_CSV

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers", "optimum"}:
            raise ImportError(f"{name} is blocked: runtime code must not need it")
sys.meta_path.insert(0, Block())
"""


def test_a_run_works_with_torch_and_transformers_unavailable(tmp_path):
    script = (
        BLOCKER
        + f"""
import os
os.environ["DEIDCODE_KEY"] = "k" * 40
from pipeline.cli import main
code = main(["run", "--input", {str(SAMPLE_CSV)!r}, "--format", "csv",
             "--output", {str(tmp_path / "out")!r}])
print("EXIT", code, sorted(m for m in ("torch", "transformers", "optimum") if m in sys.modules))
"""
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert "EXIT 0 []" in result.stdout, result.stderr[-2000:]
    assert "apitools" not in result.stderr
