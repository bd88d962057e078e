"""The HTML report of `deidcode eval phi`: figures and charts, never note text.

The header says what was scored: the run id, the models and versions that ran,
the config hash and the run's date, all read from the run's manifest, so the same
run gives the same report. The charts draw the model card's targets (the model
manifest's ``evaluation.targets``) as lines, on a y-axis zoomed to the data, with
the legend outside the bars.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from onnx_models.registry import ModelRegistryError, load_bundle, target_measure, target_met


def run_header(run_dir: Path) -> dict[str, Any]:
    """What the report's header shows of the run, from its manifest.json."""
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    models = manifest.get("models", [])
    entity_model = (manifest.get("entity_step") or {}).get("model")
    return {
        "run_id": manifest.get("run_id", "?"),
        "finished_at": manifest.get("finished_at", "?"),
        "config_sha256": manifest.get("config_sha256", "?"),
        "models": [
            f"{m['name']} {m['version']} ({m['variant']})" for m in manifest.get("models", [])
        ],
        "detectors": [f"{d['name']} {d['version']}" for d in manifest.get("detectors", [])],
        # The PHI models only: the entity step's model card has entity targets.
        "model_names": [m["name"] for m in models if m["name"] != entity_model],
    }


def model_targets(model_names: list[str]) -> list[dict[str, Any]]:
    """The targets that the model cards of the run's models state."""
    targets: list[dict[str, Any]] = []
    for name in model_names:
        try:
            manifest = load_bundle(name, verify=False).manifest
        except ModelRegistryError:
            continue  # a model no longer in the registry: no lines, the figures still stand
        for target in manifest.evaluation.get("targets", []):
            targets.append({**target, "model": f"{manifest.name} {manifest.version}"})
    return targets


def y_range(values: list[float], targets: list[float]) -> tuple[float, float]:
    """From just under the lowest bar or target (to a 0.05 step) up to 1, so the
    differences that matter (0.97 against 0.99) are visible."""
    low = min([*values, *targets], default=0.0)
    bottom = max(0.0, math.floor((low - 0.02) * 20) / 20)
    return bottom, 1.005


# One colour per target, the same on both plots; none is a bar's colour.
TARGET_COLOURS = ("tab:red", "tab:purple", "tab:green", "tab:brown", "tab:pink", "tab:olive")


def chart_png(metrics: dict, targets: list[dict[str, Any]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    for axis, level in zip(axes, ("token", "entity"), strict=True):
        types = [t for t in metrics[level] if t != "ALL" and metrics[level][t]["support"]]
        types.append("ALL")
        recall = [metrics[level][t]["recall"] for t in types]
        precision = [metrics[level][t]["precision"] for t in types]
        positions = list(range(len(types)))
        axis.bar([p - 0.2 for p in positions], recall, width=0.4, label="recall")
        axis.bar([p + 0.2 for p in positions], precision, width=0.4, label="precision")
        drawn = []
        for number, target in enumerate(targets):
            if target["level"] != level or target["type"] not in types:
                continue
            where = types.index(target["type"])
            offset = -0.2 if target["metric"] == "recall" else 0.2
            colour = TARGET_COLOURS[number % len(TARGET_COLOURS)]
            axis.hlines(
                target["value"], where + offset - 0.3, where + offset + 0.3,
                colors=colour, linestyles="dashed", linewidth=2,
                label=f"target: {target['label']} {target['op']} {target['value']}",
            )  # fmt: skip
            drawn.append(target["value"])
        axis.set_xticks(positions, types, rotation=45, ha="right")
        axis.set_ylim(*y_range(recall + precision, drawn))
        axis.set_title(f"{level}-level")
        axis.grid(axis="y", alpha=0.3)
    handles, labels = [], []
    for axis in axes:  # one legend for both plots, outside them, without repeats
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def _target_rows(metrics: dict, targets: list[dict[str, Any]]) -> str:
    rows = []
    for target in targets:
        value = target_measure(metrics, target)
        if value is None:
            continue
        met = target_met(value, target)
        rows.append(
            f"<tr><td>{html.escape(target['model'])}</td><td>{html.escape(target['label'])}</td>"
            f"<td>{value:.4f}</td><td>{target['op']} {target['value']}</td>"
            f'<td class="{"met" if met else "unmet"}">{"met" if met else "not met"}</td></tr>'
        )
    return "".join(rows)


def write_html(path: Path, metrics: dict, title: str, run_dir: Path) -> None:
    header = run_header(run_dir)
    targets = model_targets(header["model_names"])
    rows = []
    for level in ("token", "entity"):
        for phi_type, m in metrics[level].items():
            rows.append(
                f"<tr><td>{level}</td><td>{phi_type}</td><td>{m['recall']:.4f}</td>"
                f"<td>{m['precision']:.4f}</td><td>{m['f1']:.4f}</td><td>{m['f2']:.4f}</td>"
                f"<td>{m['support']}</td></tr>"
            )
    hard = metrics["hard_negatives"]
    chart = base64.b64encode(chart_png(metrics, targets)).decode()
    target_rows = _target_rows(metrics, targets)
    target_table = (
        '<h2>Targets from the model card</h2><table id="targets"><tr><th>model</th>'
        f"<th>measure</th><th>measured</th><th>target</th><th></th></tr>{target_rows}</table>"
        if target_rows
        else "<p>The run's models state no targets.</p>"
    )
    escape = html.escape
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:72em}}td,th{{padding:2px 10px;
text-align:right}}dl{{display:grid;grid-template-columns:max-content auto;gap:2px 1em}}
dt{{font-weight:bold}}dd{{margin:0;font-family:monospace}}.met{{color:#176b2c}}
.unmet{{color:#b00020;font-weight:bold}}</style>
</head><body><h1>{escape(title)}</h1>
<dl id="run">
<dt>run</dt><dd>{escape(header["run_id"])}</dd>
<dt>run finished</dt><dd>{escape(header["finished_at"])}</dd>
<dt>models</dt><dd>{escape(", ".join(header["models"]) or "none")}</dd>
<dt>detectors</dt><dd>{escape(", ".join(header["detectors"]))}</dd>
<dt>config sha256</dt><dd>{escape(header["config_sha256"])}</dd>
<dt>gold</dt><dd>{escape(Path(metrics["gold"]).name)} ({metrics["records"]} records)</dd>
</dl>
<p>Hard negatives over-redacted: {hard["over_redacted"]} of {hard["records"]}
({hard["over_redaction_rate"]:.2%}).</p>
<img alt="recall and precision per PHI type, with the model card's targets"
 src="data:image/png;base64,{chart}">
{target_table}
<h2>Figures</h2>
<table id="figures"><tr><th>level</th><th>type</th><th>recall</th><th>precision</th><th>F1</th>
<th>F2</th><th>support</th></tr>{"".join(rows)}</table>
<p>Missed spans are listed only in the leak report (owner-only file).</p></body></html>
"""
    path.write_text(page, encoding="utf-8")
