"""``deidcode eval codes``: a run's suggested ICD-10-CM codes against gold codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.eval_report import (
    EvalError,
    check_finished,
    check_matched,
    new_report_dir,
    quarantined_ids,
    released_ids,
    write_owner_only,
)
from transforms.coding.codeset import bundled_code_set
from transforms.coding.suggest import SUGGESTED
from transforms.evaluation.code_metrics import coding_metrics, read_code_gold


def add_codes_parser(kinds: argparse._SubParsersAction) -> None:
    codes = kinds.add_parser(
        "codes",
        help="ICD-10-CM coding: micro/macro P/R/F1, MAP and 3-character F1",
        description=(
            "Compare RUN_DIR/codes with gold codes per document. GOLD is JSONL in CodiEsp's "
            'schema ({"id", "text", "codes_dx": ["E11.9", ...]}); run deidcode on it first '
            "with note_id mapped to the gold id (examples/eval_coding_config.yaml). F1 reads "
            "the suggested codes, MAP the whole ranked list (suggestions, then candidates). "
            "Figures are given for the gold as released and with its retired codes read in "
            "the bundled April 2026 release (R51 as R51.9). REPORT_DIR gets metrics.json and "
            "errors.jsonl (each document's missed and wrong codes, with evidence surfaces "
            "from the redacted text), readable by its owner alone."
        ),
    )
    codes.add_argument("--gold", required=True, metavar="FILE.jsonl", help="gold codes")
    codes.add_argument("--pred", required=True, metavar="RUN_DIR", help="a finished run")
    codes.add_argument(
        "--field", default="codes_dx", help="the gold field holding the codes (default codes_dx)"
    )
    codes.add_argument(
        "--report-dir",
        help="where reports go; by default a new directory under the system temp dir, "
        "readable by its owner alone",
    )


def read_run_codes(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    check_finished(run_dir)
    if not (run_dir / "codes").is_dir():
        raise EvalError(f"{run_dir} has no codes table: it was written before the coding step")
    by_note: dict[str, list[dict[str, Any]]] = {}
    for row in pq.read_table(run_dir / "codes").to_pylist():
        by_note.setdefault(row["note_id"], []).append(row)
    for rows in by_note.values():
        rows.sort(key=lambda row: row["rank"])
    return by_note


def evaluate_codes(gold_path: Path, run_dir: Path, *, field: str = "codes_dx") -> dict[str, Any]:
    gold = read_code_gold(gold_path, field)
    found = read_run_codes(run_dir)
    quarantined = quarantined_ids(run_dir)
    check_matched(set(gold), released_ids(run_dir) | quarantined, run_dir, str(gold_path))
    suggested = {
        note: [r["code"] for r in rows if r["status"] == SUGGESTED] for note, rows in found.items()
    }
    ranked = {note: [r["code"] for r in rows] for note, rows in found.items()}
    code_set = bundled_code_set()
    current = {d: {code_set.successor(c) or c for c in codes} for d, codes in gold.items()}
    rows = [r for note in gold for r in found.get(note, ()) if r["status"] == SUGGESTED]
    return {
        "documents": len(gold),
        "quarantined_documents": len(set(gold) & quarantined),
        "gold_not_billable_in_2026": sum(c not in code_set for cs in gold.values() for c in cs),
        "as_released": coding_metrics(gold, suggested, ranked).to_dict(),
        "gold_in_2026_codes": coding_metrics(current, suggested, ranked).to_dict(),
        "suggested_with_evidence": (
            round(sum(bool(r["evidence"]) for r in rows) / len(rows), 4) if rows else None
        ),
        "coder_models": sorted({r["coder_model"] for rs in found.values() for r in rs}),
        "_errors": _errors(gold, found, code_set),
    }


def _errors(gold, found, code_set) -> list[dict[str, Any]]:
    errors = []
    for note, codes in sorted(gold.items()):
        rows = [r for r in found.get(note, ()) if r["status"] == SUGGESTED]
        predicted = {r["code"] for r in rows}
        missed = sorted(codes - predicted)
        wrong = [r for r in rows if r["code"] not in codes]
        if not missed and not wrong:
            continue
        errors.append(
            {
                "id": note,
                "missed": [
                    {"code": c, "description": e.title if (e := code_set.get(c)) else None}
                    for c in missed
                ],
                "wrong": [
                    {
                        "code": r["code"],
                        "description": r["description"],
                        "score": r["score"],
                        "evidence": [span["text_deid"] for span in r["evidence"]],
                    }
                    for r in wrong
                ],
            }
        )
    return errors


def run_codes_command(args: argparse.Namespace) -> int:
    result = evaluate_codes(Path(args.gold), Path(args.pred), field=args.field)
    errors = result.pop("_errors")
    report = Path(args.report_dir) if args.report_dir else new_report_dir()
    report.mkdir(parents=True, exist_ok=True)
    (report / "metrics.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    write_owner_only(report / "errors.jsonl", [json.dumps(e, ensure_ascii=False) for e in errors])
    print(
        f"documents {result['documents']} (quarantined {result['quarantined_documents']}); "
        f"reports in {report}"
    )
    for setting in ("as_released", "gold_in_2026_codes"):
        m = result[setting]
        print(
            f"{setting:<19} micro P {m['micro']['precision']:.4f} R {m['micro']['recall']:.4f} "
            f"F1 {m['micro']['f1']:.4f} | macro F1 {m['macro']['f1']:.4f} | MAP {m['map']:.4f} "
            f"| 3-char F1 {m['category_micro']['f1']:.4f}"
        )
    print(f"suggested codes with evidence: {result['suggested_with_evidence']}")
    return 0
