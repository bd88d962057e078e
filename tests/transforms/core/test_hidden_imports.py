"""torch and transformers stay out of a de-identification process (issue 18: start-up
and memory), even where the train extra installs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from transforms.core.hidden_imports import ml_frameworks_hidden

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def heavy_module(tmp_path, monkeypatch):
    """An importable module that nothing has imported yet."""
    (tmp_path / "deidcode_fake_heavy.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "deidcode_fake_heavy", raising=False)
    yield "deidcode_fake_heavy"
    sys.modules.pop("deidcode_fake_heavy", None)


def test_a_hidden_module_looks_uninstalled_inside_the_block_only(heavy_module):
    with ml_frameworks_hidden((heavy_module,)), pytest.raises(ImportError):
        __import__(heavy_module)
    assert __import__(heavy_module).LOADED
    assert sys.modules[heavy_module] is not None


def test_an_already_imported_module_is_left_alone(heavy_module):
    loaded = __import__(heavy_module)
    with ml_frameworks_hidden((heavy_module,)):
        assert __import__(heavy_module) is loaded
    assert sys.modules[heavy_module] is loaded


def test_the_deidentification_modules_import_neither_torch_nor_transformers():
    """Every module a run loads on the driver and in a worker: the job, the pattern
    detector (presidio, spaCy) and the model handlers (Beam's RunInference)."""
    code = (
        "import sys\n"
        "import pipeline.job, pipeline.assembly, transforms.detection.patterns\n"
        "import transforms.detection.ner.handler, transforms.entities.step\n"
        "print(sorted(m for m in ('torch', 'transformers') if sys.modules.get(m)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
