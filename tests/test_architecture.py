"""The package layout holds: imports only point down the layers, no import cycles,
and no module grows past the size at which it should be split."""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "transforms", "schemas", "onnx_models")
MAX_MODULE_LINES = 500


def test_imports_follow_the_layers_in_pyproject(capsys):
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert exit_code == 0, capsys.readouterr().out


def test_no_import_cycles():
    # grimp sees imports anywhere in a module, function-level ones included:
    # a lazy import is exactly how a cycle gets hidden.
    graph = grimp.build_graph(*PACKAGES)
    dependencies = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(dependencies).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_the_cycle_check_sees_a_cycle():
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    try:
        graphlib.TopologicalSorter(cyclic).prepare()
    except graphlib.CycleError:
        return
    raise AssertionError("graphlib found no cycle in a -> b -> c -> a")


def test_no_module_passes_the_size_limit():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"split these modules: {too_long}"
