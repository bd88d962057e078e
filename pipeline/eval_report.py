"""`deidcode eval phi`: score a run's phi_spans against gold, and write the reports.

Figures go to stdout and metrics.json. Missed spans, which quote PHI, go only to
a leak report created with owner-only permissions; the HTML report holds
figures and charts, no text.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.eval_html import write_html
from transforms.evaluation.gold_formats import read_gold
from transforms.evaluation.metrics import Evaluation, PredSpan, evaluate
from transforms.evaluation.over_redaction import over_redaction


class EvalError(ValueError):
    """The prediction run or gold cannot be scored; the message names the path."""


def check_finished(run_dir: Path) -> None:
    if not (run_dir / "_SUCCESS").exists():
        raise EvalError(f"{run_dir} has no _SUCCESS: the run did not finish")


def load_predictions(run_dir: Path) -> dict[str, list[PredSpan]]:
    check_finished(run_dir)
    predictions: dict[str, list[PredSpan]] = {}
    for row in pq.read_table(run_dir / "phi_spans").to_pylist():
        if row["field"] != "text":  # spans in deid_text columns have no gold
            continue
        predictions.setdefault(row["note_id"], []).append(
            PredSpan(row["start"], row["end"], row["phi_type"])
        )
    return predictions


def quarantined_ids(run_dir: Path) -> set[str]:
    return {r["note_id"] for r in pq.read_table(run_dir / "quarantine").to_pylist() if r["note_id"]}


def write_owner_only(path: Path, lines: list[str]) -> None:
    """Write a report that quotes note text or names patients, readable by its owner alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # also when the file already existed
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def write_leak_report(path: Path, evaluation: Evaluation) -> None:
    write_owner_only(
        path, [json.dumps(asdict(miss), ensure_ascii=False) for miss in evaluation.misses]
    )


# A run that saw fewer of the gold records than this scores something else than
# the gold describes (a wrong id mapping, another file), so its figures mislead.
MIN_MATCHED_SHARE = 0.9


def check_matched(ids: set[str], seen: set[str], run_dir: Path, source: str) -> None:
    """Refuse to score a run that released or quarantined (``seen``) too few of
    ``source``'s records."""
    matched = len(ids & seen)
    if not ids or matched < MIN_MATCHED_SHARE * len(ids):
        raise EvalError(
            f"only {matched} of the {len(ids)} records of {source} are in the run {run_dir} "
            f"(at least {MIN_MATCHED_SHARE:.0%} are needed): run deidcode on this file, with "
            "note_id mapped to its id (examples/eval_config.yaml)"
        )


def parse_label_map(value: str) -> dict[str, str]:
    """``GOLD=OURS,...`` pairs, or the path of a JSON object file."""
    path = Path(value)
    if value.endswith(".json") or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EvalError(f"--label-map {value}: cannot be read ({type(exc).__name__})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise EvalError(f"--label-map {value}: expected a JSON object of label to label")
        return {str(k): v.upper() for k, v in data.items()}
    pairs = [item.partition("=") for item in value.split(",") if item.strip()]
    if not pairs or any(not gold.strip() or not ours.strip() for gold, _, ours in pairs):
        raise EvalError(f"--label-map {value!r}: expected GOLD=OURS pairs joined by commas")
    return {gold.strip(): ours.strip().upper() for gold, _, ours in pairs}


def run_entity_eval(gold: Path, run_dir: Path, label_map: str) -> dict:
    """Exact and overlap figures of RUN_DIR/entities against ``gold``."""
    from transforms.evaluation.entity_metrics import (
        LabelledSpan,
        evaluate_entities,
        read_entity_gold,
    )

    mapping = parse_label_map(label_map)
    check_finished(run_dir)
    if not (run_dir / "entities").is_dir():
        raise EvalError(f"{run_dir} has no entities table: the entity step was off in that run")
    records = read_entity_gold(gold, mapping)
    gold_ids = {r.id for r in records}
    quarantined = quarantined_ids(run_dir)
    check_matched(gold_ids, released_ids(run_dir) | quarantined, run_dir, str(gold))
    # Only the labels the gold annotates are scored: NCBI-disease marks no drugs,
    # so a run's drugs are neither right nor wrong against it.
    labels = sorted(set(mapping.values()))
    predictions: dict[str, list[LabelledSpan]] = {}
    for row in pq.read_table(run_dir / "entities").to_pylist():
        if row["label"] in labels:
            predictions.setdefault(row["note_id"], []).append(
                LabelledSpan(row["start"], row["end"], row["label"])
            )
    scores = evaluate_entities(records, predictions)
    empty = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    return {
        **{label: scores["exact"].get(label, empty) for label in labels},
        "overlap": {label: scores["overlap"].get(label, empty) for label in labels},
        "labels": labels,
        "records": len(records),
        "quarantined_records": len(quarantined & gold_ids),
        "gold": str(gold),
        "pred": str(run_dir),
        "label_map": mapping,
    }


def new_report_dir() -> Path:
    """A fresh directory readable by its owner alone, for reports that quote PHI."""
    return Path(tempfile.mkdtemp(prefix="deidcode-eval-"))


def run_eval(
    gold: str, pred: str, report_dir: str, exclude_types: list[str], *, score_titles: bool = False
) -> dict:
    run_dir = Path(pred)
    records = read_gold(gold)
    predictions = load_predictions(run_dir)
    gold_ids = {r.id for r in records}
    quarantined = quarantined_ids(run_dir)
    check_matched(gold_ids, released_ids(run_dir) | quarantined, run_dir, str(gold))
    evaluation = evaluate(
        records, predictions, exclude_types=exclude_types, score_titles=score_titles
    )
    metrics = evaluation.to_dict()
    metrics["gold"] = str(gold)
    metrics["pred"] = str(run_dir)
    metrics["excluded_types"] = sorted(exclude_types)
    metrics["titles_scored"] = score_titles
    metrics["quarantined_records"] = len(quarantined & gold_ids)
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_leak_report(out / "leaks.jsonl", evaluation)
    write_html(out / "report.html", metrics, f"deidcode PHI evaluation: {Path(gold).name}", run_dir)
    return metrics


def released_ids(run_dir: Path) -> set[str]:
    return set(pq.read_table(run_dir / "notes", columns=["note_id"]).column("note_id").to_pylist())


def read_texts(path: Path) -> dict[str, str]:
    """``{id: text}`` from a JSONL file whose records carry ``id`` (or ``note_id``) and ``text``."""
    texts: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"text file {path} cannot be read ({type(exc).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            record_id = record.get("id", record.get("note_id"))
            text = record["text"]
        except (json.JSONDecodeError, AttributeError, KeyError):
            raise EvalError(f"{path} line {number}: not an object with id and text") from None
        if not isinstance(record_id, str) or not isinstance(text, str):
            raise EvalError(f"{path} line {number}: id and text must be strings")
        texts[record_id] = text
    return texts


def run_over_redaction(text_file: str, pred: str, report_dir: str, *, top: int = 20) -> dict:
    """Words redacted per 1,000 on PHI-free text; the most redacted words owner-only."""
    run_dir = Path(pred)
    predictions = load_predictions(run_dir)
    texts = read_texts(Path(text_file))
    released = released_ids(run_dir)
    check_matched(set(texts), released | quarantined_ids(run_dir), run_dir, str(text_file))
    scored = {record_id: text for record_id, text in texts.items() if record_id in released}
    result = over_redaction(scored, predictions)
    metrics = {
        **result.to_dict(),
        "text": str(text_file),
        "pred": str(run_dir),
        "records_not_released": len(texts) - len(scored),
    }
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_owner_only(
        out / "over_redacted_words.jsonl",
        [
            json.dumps({"word": word, "times": times}, ensure_ascii=False)
            for word, times in result.redacted_words.most_common(top)
        ],
    )
    return metrics
