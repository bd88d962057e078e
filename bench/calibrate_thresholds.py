"""Choose the PHI model's per-type score thresholds on validation data only.

The validation sets are calibrate_guards.py's (``ValidationSets``): held-out
template notes (seed 101) and real-place notes for recall; the calibration
slice of CodiEsp-EN, NCBI-disease and BC5CDR *train* for over-redaction. None
of them is a reported set. The model (with no threshold) and the pattern
detectors run once per text; each setting then keeps the model spans at or
above its thresholds, adds the pattern spans and runs the configured span
filters on them, which is exactly what a run with those thresholds would
release.

The rule, for each type in turn with the others at 0.5: among the grid
thresholds up to ``--max-threshold`` whose validation token recall is within
``--recall-tolerance`` of the best on the grid, the one with the fewest
redacted words per 1,000 (a tie goes to the higher threshold). A type with
fewer than ``--min-support`` gold tokens in the validation notes keeps 0.5:
there is no evidence to move it. The chosen thresholds are then scored
together, and written to the model's manifest with ``--write-manifest``,
with the ``--entity-mass`` decoding they were chosen under.

Why thresholds stop at 0.5 by default: precision is the guards' job
(calibrate_guards.py), and a threshold above 0.5 trades recall that this
validation cannot see. Its synthetic dates, contacts and IDs are found at every
threshold, so a first sweep without the cap raised DATE, CONTACT and ID to
0.95 at no validation cost; on the reported sets that cost MEDDOCAN ID recall
0.848 -> 0.474 and ASQ-PHI ID recall 0.9878 -> 0.9857 for 0.9 fewer words per
1,000 (bench/threshold_calibration.md keeps the whole table).

    PYTHONPATH=. python bench/calibrate_thresholds.py --shared ../shared \
        --out bench/threshold_calibration.md [--write-manifest]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bench.calibrate_guards import (
    ValidationSets,
    add_validation_arguments,
    loaded_components,
    predictor,
)
from onnx_models.registry import model_dir, read_manifest, write_manifest
from schemas.phi_types import PHI_TYPES
from transforms.core.spans import Span
from transforms.detection.base import Detector

GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
DEFAULT = 0.5


class CachedSpans(Detector):
    """A detector's spans, computed once per text: every setting of the sweep scores
    the same texts, and only the model's thresholds differ between settings."""

    def __init__(self, detector: Detector) -> None:
        self.name = detector.name
        self.detector = detector
        self.found: dict[str, list[Span]] = {}

    def detect(self, text: str) -> list[Span]:
        if text not in self.found:
            self.found[text] = self.detector.detect(text)
        return list(self.found[text])


class ThresholdedSpans(Detector):
    """The model's raw spans (cached), kept at per-type thresholds."""

    def __init__(self, model: CachedSpans, thresholds: Mapping[str, float]) -> None:
        self.name = model.name
        self.model = model
        self.thresholds = thresholds

    def at(self, thresholds: Mapping[str, float]) -> ThresholdedSpans:
        return ThresholdedSpans(self.model, thresholds)  # one cache for every setting

    def detect(self, text: str) -> list[Span]:
        kept = self.thresholds
        return [s for s in self.model.detect(text) if s.score >= kept.get(s.phi_type, DEFAULT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_validation_arguments(parser)
    parser.add_argument("--recall-tolerance", type=float, default=0.0005)
    parser.add_argument("--min-support", type=int, default=20)
    parser.add_argument("--max-threshold", type=float, default=DEFAULT)
    parser.add_argument(
        "--grid", type=float, nargs="+", default=GRID, help="thresholds to sweep per type"
    )
    parser.add_argument(
        "--entity-mass",
        type=float,
        help="decode with this entity_mass (see EngineSettings) before the sweep",
    )
    parser.add_argument(
        "--write-manifest", action="store_true", help="store the chosen thresholds in the model"
    )
    args = parser.parse_args()
    sets = ValidationSets.load(args.shared, args.sentences)
    components = loaded_components(args.config)
    model = next(d for d in components.detectors if d.name == "onnx_ner")
    # Every span the model finds, whatever its score: the sweep applies the thresholds.
    unthresholded = type(model)(
        **{
            **model.settings.__dict__,
            "default_threshold": 0.0,
            "calibrated_thresholds": False,
            "entity_mass": args.entity_mass,
        }
    )
    unthresholded.load()
    spans = ThresholdedSpans(CachedSpans(unthresholded), {})
    patterns = [CachedSpans(d) for d in components.detectors if d.name != "onnx_ner"]

    def run(thresholds: Mapping[str, float]) -> dict:
        detectors = [*patterns, spans.at(thresholds)]
        recall, rate = sets.score(predictor(detectors, components.filters))
        return {"recall": recall.to_dict()["token"], "over": rate.to_dict()}

    baseline = run({})
    support = {t: c.get("support", 0) for t, c in baseline["recall"].items()}
    rows: list[tuple[str, dict]] = [("0.5 for every type", baseline)]
    chosen: dict[str, float] = {}
    for phi_type in PHI_TYPES:
        if support.get(phi_type, 0) < args.min_support:
            continue
        swept = [
            (value, baseline if value == DEFAULT else run({phi_type: value}))
            for value in sorted({*args.grid, DEFAULT})
        ]
        rows += [(f"{phi_type} {value}", result) for value, result in swept if value != DEFAULT]
        best = max(r["recall"]["ALL"]["recall"] for _, r in swept)
        eligible = [
            (r["over"]["redacted_per_1000"], -value, value)
            for value, r in swept
            if value <= args.max_threshold
            and r["recall"]["ALL"]["recall"] >= best - args.recall_tolerance
        ]
        chosen[phi_type] = min(eligible)[2]
    combined = run(chosen)
    rows.append(("chosen, together", combined))
    write_report(args, sets, support, rows, chosen)
    if args.write_manifest:
        store_thresholds(model.settings.model, chosen, entity_mass=args.entity_mass)


def write_report(
    args: argparse.Namespace,
    sets: ValidationSets,
    support: Mapping[str, int],
    rows: Sequence[tuple[str, dict]],
    chosen: Mapping[str, float],
) -> None:
    types = [t for t in PHI_TYPES if support.get(t, 0)]
    lines = [
        sets.describe(),
        f"Gold tokens by type: {', '.join(f'{t} {support[t]}' for t in types)}.",
        f"Rule: per type, the fewest redacted words per 1,000 among grid thresholds whose "
        f"token recall is within {args.recall_tolerance} of the grid's best; a type with "
        f"fewer than {args.min_support} gold tokens keeps 0.5; no threshold above "
        f"{args.max_threshold} is chosen."
        + (f" Decoded with entity_mass {args.entity_mass}." if args.entity_mass else ""),
        "",
        "| setting | token recall | "
        + " | ".join(f"{t} recall" for t in types)
        + " | redacted per 1,000 |",
        "|---|---|" + "---|" * len(types) + "---|",
    ]
    for name, result in rows:
        recall = result["recall"]
        cells = [f"{recall.get(t, {}).get('recall', 0.0):.4f}" for t in types]
        lines.append(
            f"| {name} | {recall['ALL']['recall']:.4f} | "
            + " | ".join(cells)
            + f" | {result['over']['redacted_per_1000']:.2f} |"
        )
    lines += ["", "Chosen: " + ", ".join(f"{t} {v}" for t, v in chosen.items())]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def store_thresholds(
    model: str, thresholds: Mapping[str, float], *, entity_mass: float | None
) -> None:
    """Write ``thresholds`` and the ``entity_mass`` they were chosen with into the
    model folder's manifest (the registry's writer, which validates them and pins
    the folder's files again): a run takes both together."""
    directory = model_dir(model)
    manifest = read_manifest(directory)
    calibration = replace(
        manifest, thresholds=dict(sorted(thresholds.items())), entity_mass=entity_mass
    )
    write_manifest(directory, calibration)


if __name__ == "__main__":
    main()
