"""The eval report as a reader sees it, rendered in a real headless Chromium: a header
naming the run, the chart drawn with the model card's targets, no note text."""

from __future__ import annotations

import json

from PIL import Image

from pipeline.cli import main
from pipeline.eval_html import y_range
from tests.browser import screenshot
from tests.conftest import REPO_ROOT
from tests.pipeline.helpers import manifest, run_export, write_jsonl

TAB_BLUE, TAB_ORANGE, TAB_RED = (31, 119, 180), (255, 127, 14), (214, 39, 40)


def _gold(tmp_path):
    records = []
    for i, (name, date) in enumerate(
        [("Zanzibar Quill", "03/14/2021"), ("Ottoline Marsh", "4/2/2019")]
    ):
        text = f"Patient {name} was seen on {date} for follow-up of hypertension."
        start = text.index(name)
        records.append(
            {
                "id": f"g{i}",
                "patient_id": "p",
                "text": text,
                "spans": [
                    {"start": start, "end": start + len(name), "label": "PATIENT"},
                    {
                        "start": text.index(date),
                        "end": text.index(date) + len(date),
                        "label": "DATE",
                    },
                ],
            }
        )
    return write_jsonl(tmp_path / "gold.jsonl", records)


def _pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    return sum(
        1
        for pixel in image.convert("RGB").getdata()
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


def test_the_report_names_the_run_and_draws_the_targets(tmp_path, run_key, capsys):
    gold = _gold(tmp_path)
    run = tmp_path / "run"
    assert run_export(gold, run, config=REPO_ROOT / "examples" / "eval_config.yaml") == 0
    report = tmp_path / "report"
    args = ["eval", "phi", "--gold", str(gold), "--pred", str(run), "--report-dir", str(report)]
    assert main(args) == 0
    capsys.readouterr()

    page = (report / "report.html").read_text()
    run_manifest = manifest(run)
    assert run_manifest["run_id"] in page and run_manifest["config_sha256"] in page
    phi_model = next(m for m in run_manifest["models"] if m["name"] == "deid_phi_minilm")
    assert f"deid_phi_minilm {phi_model['version']} (int8)" in page
    assert "token recall, NAME" in page  # the model card's targets, from its manifest
    assert "Zanzibar" not in page and "Quill" not in page and "hypertension" not in page

    png = Image.open(screenshot(report / "report.html", tmp_path / "report.png"))
    assert png.size == (1280, 1700)
    # The embedded chart decoded and drew its bars and the dashed target lines.
    assert _pixels_near(png, TAB_BLUE) > 2000
    assert _pixels_near(png, TAB_ORANGE) > 2000
    assert _pixels_near(png, TAB_RED) > 50
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["records"] == 2


def test_the_y_axis_is_zoomed_to_the_data():
    assert y_range([0.97, 0.99, 1.0], [0.99]) == (0.95, 1.005)
    assert y_range([0.41, 0.9], []) == (0.35, 1.005)
    assert y_range([0.01], []) == (0.0, 1.005)
