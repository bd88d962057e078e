"""Run the default detector set over every PHI evaluation set and tabulate the figures.

Each set is de-identified with ``deidcode run`` and scored with ``deidcode eval
phi`` (gold sets) or ``deidcode eval phi --over-redaction`` (PHI-free text),
exactly as a user would run them; the per-set metrics.json files and a Markdown
table go to ``--out``. Nothing here is tuned: it only measures.

    PYTHONPATH=. python bench/phi_suite.py --shared ../shared --out build/phi_suite

``--config`` runs another detector config (for example one without the
precision guards) for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from onnx_models.recipes.phi_carriers import ACI_HELD_OUT
from onnx_models.recipes.phi_corpus import CorpusConfig, generate

ROOT = Path(__file__).resolve().parents[1]
EVAL_CONFIG = ROOT / "examples" / "eval_config.yaml"
WORD = re.compile(r"\w+")


def deidcode(*args: str) -> str:
    command = [sys.executable, "-m", "pipeline.cli", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def config_for(base: Path | None, out: Path, *, note_id: str) -> Path:
    """The eval config (ids mapped, no dates), plus the detection section of ``base``."""
    text = EVAL_CONFIG.read_text().replace("note_id: id", f"note_id: {note_id}")
    if base is not None:
        import yaml

        detection = yaml.safe_load(base.read_text()).get("detection")
        if detection:
            text += yaml.safe_dump({"detection": detection})
    path = out / f"config_{note_id}.yaml"
    path.write_text(text)
    return path


def with_patient_ids(data: Path, out: Path) -> Path:
    """A copy of ``data`` where records without a patient_id get one placeholder patient
    (CodiEsp has none; deidcode quarantines a note without one)."""
    records = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    if all("patient_id" in r for r in records):
        return data
    return write_jsonl(out / "inputs" / data.name, [{"patient_id": "p", **r} for r in records])


def run_and_score(
    name: str, data: Path, out: Path, config: Path, *, gold: bool, extra=(), reuse=False
) -> dict:
    run = out / name / "run"
    report = out / name / "report"
    data = with_patient_ids(data, out)
    if not (reuse and (run / "_SUCCESS").exists()):
        deidcode("run", "--input", str(data), "--format", "jsonl", "--output", str(run),
                 "--config", str(config), "--overwrite")  # fmt: skip
    source = ["--gold", str(data)] if gold else ["--over-redaction", str(data)]
    deidcode("eval", "phi", *source, "--pred", str(run), "--report-dir", str(report), *extra)
    return json.loads((report / "metrics.json").read_text())


def aci_span_kinds(run: Path) -> dict:
    """What ACI-Bench's redacted spans are, for the table: counts by type."""
    spans = pq.read_table(run / "phi_spans").to_pylist()
    return dict(Counter(span["phi_type"] for span in spans))


_DIGIT_OR_MONTH = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:mon|tues|wednes"
    r"|thurs|fri|satur|sun)day\b",
    re.IGNORECASE,
)


def span_holds_phi(surface: str, phi_type: str) -> bool:
    """A reviewer's rule for an unlabelled ACI-Bench span (its names, dates and places
    are fictional but unlabelled): a DATE, AGE, CONTACT or ID holds PHI when it has
    a digit, a month or a weekday; a NAME, LOCATION or PROFESSION when one of its
    words is capitalised and not common English or clinical vocabulary (a proper
    name). A heuristic, stated as such in the tables: it shares its vocabulary with
    the model_shape_vocabulary filter, so it cannot judge that filter's own choices."""
    from transforms.detection.guards import is_vocabulary_word

    if phi_type in ("DATE", "AGE", "CONTACT", "ID"):
        return bool(_DIGIT_OR_MONTH.search(surface))
    return any(w[0].isupper() and not is_vocabulary_word(w) for w in WORD.findall(surface))


def aci_span_review(run: Path, data: Path) -> dict:
    """Spans on the held-out ACI-Bench notes that hold no PHI by ``span_holds_phi``, and
    spans over a clinical value (a vital sign, a murmur grade, a dose ...)."""
    from transforms.detection.clinical_values import protected_regions
    from transforms.detection.guards import is_vocabulary_word

    texts = {r["note_id"]: r["text"] for r in map(json.loads, data.read_text().splitlines())}
    spans = [s for s in pq.read_table(run / "phi_spans").to_pylist() if s["field"] == "text"]
    no_phi: Counter[str] = Counter()
    over_values = 0
    regions = {
        note_id: protected_regions(text, is_header_word=is_vocabulary_word)
        for note_id, text in texts.items()
    }
    for span in spans:
        surface = texts[span["note_id"]][span["start"] : span["end"]]
        if not span_holds_phi(surface, span["phi_type"]):
            no_phi[f"{span['phi_type']}: {surface}"] += 1
        if any(a < span["end"] and span["start"] < b for a, b in regions[span["note_id"]]):
            over_values += 1
    return {
        "notes": len(texts),
        "spans": len(spans),
        "spans_without_phi": sum(no_phi.values()),
        "share_without_phi": round(sum(no_phi.values()) / max(len(spans), 1), 4),
        "spans_over_clinical_values": over_values,
        "most_common_without_phi": no_phi.most_common(25),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="a config whose detection section is used")
    parser.add_argument("--reuse", action="store_true", help="keep runs that already finished")
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "phi-suite-" + "0" * 32)
    data = args.shared / "data"
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    by_id = config_for(args.config, out, note_id="id")
    by_note_id = config_for(args.config, out, note_id="note_id")

    ner = [
        {**r, "id": f"{corpus}:{r['id']}", "patient_id": "p"}
        for corpus in ("ncbi_disease_sent", "bc5cdr_sent")
        for r in map(json.loads, (data / "ner" / corpus / "dev.jsonl").read_text().splitlines())
    ]
    ner_dev = write_jsonl(out / "inputs" / "ner_dev_sentences.jsonl", ner)
    held_out = write_jsonl(
        out / "inputs" / "synthetic_held_out.jsonl",
        [{**r, "patient_id": "p"} for r in generate(CorpusConfig("test", 300, 14))],
    )
    aci_notes = (data / "aci_bench_notes.jsonl").read_text().splitlines()
    aci_held_out = write_jsonl(
        out / "inputs" / "aci_held_out.jsonl",
        [json.loads(line) for i, line in enumerate(aci_notes) if i % ACI_HELD_OUT == 0],
    )
    import functools

    score = functools.partial(run_and_score, reuse=args.reuse)
    results = {
        "asqphi_dev": score("asqphi_dev", data / "asqphi_dev.jsonl", out, by_id, gold=True),
        "synthetic_held_out": score("synthetic", held_out, out, by_id, gold=True),
        "meddocan_dev": score(
            "meddocan",
            data / "meddocan_dev.jsonl",
            out,
            by_id,
            gold=True,
            extra=("--exclude-type", "OTHER"),
        ),  # fmt: skip
        "codiesp_dev": score("codiesp", data / "codiesp_dev_en.jsonl", out, by_id, gold=False),
        "ner_dev_sentences": score("ner_dev", ner_dev, out, by_id, gold=False),
        "aci_bench": score("aci", data / "aci_bench_notes.jsonl", out, by_note_id, gold=False),
        # Every fifth note: never carrier text for training (phi_carriers.ACI_HELD_OUT).
        "aci_held_out": score("aci_held_out", aci_held_out, out, by_note_id, gold=False),
    }
    results["aci_bench"]["spans_by_type"] = aci_span_kinds(out / "aci" / "run")
    results["aci_held_out"]["review"] = aci_span_review(out / "aci_held_out" / "run", aci_held_out)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")

    def gold_row(name: str) -> str:
        m = results[name]
        tok = m["token"]
        name_recall = tok.get("NAME", {}).get("recall", float("nan"))
        hard = m["hard_negatives"]
        return (
            f"| {name} | {tok['ALL']['recall']:.4f} | {name_recall:.4f} | "
            f"{tok['ALL']['precision']:.4f} | {hard['over_redacted']}/{hard['records']} |"
        )

    lines = [
        "| gold set | token recall | NAME recall | token precision | hard negatives redacted |",
        "|---|---|---|---|---|",
        *(gold_row(n) for n in ("asqphi_dev", "synthetic_held_out", "meddocan_dev")),
        "",
        "| PHI-free text | words | redacted per 1,000 | by type |",
        "|---|---|---|---|",
    ]
    for name in ("codiesp_dev", "ner_dev_sentences", "aci_bench", "aci_held_out"):
        m = results[name]
        types = ", ".join(f"{t} {v['redacted_per_1000']:.2f}" for t, v in m["by_type"].items())
        lines.append(f"| {name} | {m['words']} | {m['redacted_per_1000']:.2f} | {types} |")
    review = results["aci_held_out"]["review"]
    lines += [
        "",
        f"ACI-Bench held-out notes ({review['notes']}): {review['spans']} spans, "
        f"{review['spans_without_phi']} ({review['share_without_phi']:.1%}) hold no PHI by the "
        f"reviewer's rule (bench/phi_suite.py span_holds_phi, a heuristic); "
        f"{review['spans_over_clinical_values']} overlap a clinical value.",
    ]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
