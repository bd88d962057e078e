"""``deidcode eval``: the subcommand's options and what it prints."""

from __future__ import annotations

import argparse

from pipeline.eval_codes import add_codes_parser


def add_eval_parser(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="score a run against gold annotations",
        description="Score a finished run's output against gold annotations.",
    )
    kinds = evaluate.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    phi = kinds.add_parser(
        "phi",
        help="PHI detection: token- and entity-level recall, precision, F1 and F2",
        description=(
            "Compare RUN_DIR/phi_spans with gold PHI spans. GOLD is JSONL "
            '({"id", "text", "spans": [{"start", "end", "label"}]}), a BRAT standoff '
            "directory (.txt + .ann) or i2b2 2014 XML (a file or a directory). Run deidcode "
            "on the gold texts first, with note_id mapped to the gold id "
            "(examples/eval_config.yaml). Figures go to stdout and REPORT_DIR/metrics.json, a "
            "chart to REPORT_DIR/report.html; missed spans with their context go only to "
            "REPORT_DIR/leaks.jsonl, created readable by its owner alone."
        ),
    )
    source = phi.add_mutually_exclusive_group(required=True)
    source.add_argument("--gold", help="gold annotations: JSONL, BRAT dir or i2b2 XML")
    source.add_argument(
        "--over-redaction",
        metavar="TEXT.jsonl",
        help="instead of gold, text with no PHI ({id, text} a line): every word the run "
        "redacted is counted, as words per 1,000 by type; the 20 most redacted words go "
        "only to REPORT_DIR/over_redacted_words.jsonl, readable by its owner alone",
    )
    phi.add_argument("--pred", required=True, metavar="RUN_DIR", help="a finished deidcode run")
    phi.add_argument(
        "--report-dir",
        help="where reports go; by default a new directory under the system temp dir, "
        "readable by its owner alone (leak reports quote PHI), whose path is printed",
    )
    phi.add_argument(
        "--exclude-type",
        action="append",
        default=[],
        metavar="PHI_TYPE",
        help="leave a coarse type out of scoring (repeatable), e.g. OTHER",
    )
    phi.add_argument(
        "--score-titles",
        action="store_true",
        help="score titles (Dr, Mr, Mrs, ...) inside gold name spans as PHI tokens; by default "
        "they are skipped, since they identify no one and gold sets differ on including them",
    )

    _add_assertion_parser(kinds)
    _add_entities_parser(kinds)
    add_codes_parser(kinds)


def _add_entities_parser(kinds: argparse._SubParsersAction) -> None:
    entities = kinds.add_parser(
        "entities",
        help="clinical entities: exact and overlap precision, recall and F1 per label",
        description=(
            "Compare RUN_DIR/entities (offsets in the original text) with gold spans. GOLD is "
            'JSONL ({"id", "text", "spans": [{"start", "end", "label"}]}, as in '
            "shared/data/ner); run deidcode on it first with note_id mapped to the gold id "
            "(examples/eval_entities_config.yaml). Gold labels are mapped to ours with "
            "--label-map; unmapped gold labels are not scored. REPORT_DIR gets metrics.json: "
            "exact-match figures per label, and the same under overlap."
        ),
    )
    entities.add_argument("--gold", required=True, metavar="FILE.jsonl", help="gold spans")
    entities.add_argument("--pred", required=True, metavar="RUN_DIR", help="a finished run")
    entities.add_argument(
        "--label-map",
        default="Disease=PROBLEM,Chemical=DRUG",
        metavar="MAP",
        help="gold label to ours: GOLD=OURS pairs joined by commas, or a JSON object file "
        "(default: Disease=PROBLEM,Chemical=DRUG)",
    )
    entities.add_argument(
        "--report-dir",
        help="where metrics.json goes; by default a new directory under the system temp dir",
    )


def _add_assertion_parser(kinds: argparse._SubParsersAction) -> None:
    assertion = kinds.add_parser(
        "assertion",
        help="assertion (negated, historical, hypothetical, family) on gold spans",
        description=(
            "Run the assertion rules on the gold spans of GOLD (no NER) and print precision, "
            "recall and F1 for negated, historical, hypothetical and family. GOLD is JSONL: "
            '{"id", "text", "spans": [{"start", "end", "negated", "temporality": '
            '"recent|historical|hypothetical", "experiencer": "patient|other"}]}. '
            "REPORT_DIR gets metrics.json and disagreements.jsonl (ids and offsets only)."
        ),
    )
    assertion.add_argument("--gold", required=True, metavar="FILE.jsonl", help="gold spans")
    assertion.add_argument(
        "--report-dir",
        help="where metrics.json goes; by default a new directory under the system temp dir",
    )
    assertion.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE.yaml",
        help="extra ConText rules (medspaCy's format, under context_rules:), added to the "
        "bundled ones (repeatable)",
    )
    assertion.add_argument(
        "--sections",
        action="append",
        default=[],
        metavar="FILE.yaml",
        help="extra section headers (under sections:), added to the bundled ones (repeatable)",
    )


def run_assertion_command(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from pipeline.eval_report import new_report_dir
    from transforms.entities.assertion import BUNDLED_RULES, BUNDLED_SECTIONS, ContextAsserter
    from transforms.evaluation.assertion_metrics import (
        SCORED_FLAGS,
        evaluate_assertion,
        read_assertion_gold,
    )

    asserter = ContextAsserter.from_files(
        [BUNDLED_RULES, *map(Path, args.rules)],
        [BUNDLED_SECTIONS, *map(Path, args.sections)],
    )
    records = read_assertion_gold(Path(args.gold))
    result = evaluate_assertion(records, asserter.assert_entities)
    metrics = result["metrics"]
    report = Path(args.report_dir) if args.report_dir else new_report_dir()
    report.mkdir(parents=True, exist_ok=True)
    (report / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    with (report / "disagreements.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(error) + "\n" for error in result["errors"])
    print(f"records {metrics['records']}, spans {metrics['spans']}; reports in {report}")
    for flag in SCORED_FLAGS:
        m = metrics[flag]
        print(
            f"  {flag:<13} precision {m['precision']:.4f} recall {m['recall']:.4f} "
            f"F1 {m['f1']:.4f} support {m['support']}"
        )
    return 0


def run_entities_command(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from pipeline.eval_report import new_report_dir, run_entity_eval

    report = Path(args.report_dir) if args.report_dir else new_report_dir()
    metrics = run_entity_eval(Path(args.gold), Path(args.pred), args.label_map)
    report.mkdir(parents=True, exist_ok=True)
    (report / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(f"records {metrics['records']}; metrics in {report}/metrics.json")
    for label in metrics["labels"]:
        for kind, m in (("exact", metrics[label]), ("overlap", metrics["overlap"][label])):
            print(
                f"  {label:<8} {kind:<7} precision {m['precision']:.4f} recall "
                f"{m['recall']:.4f} F1 {m['f1']:.4f} support {m['support']}"
            )
    return 0


def run_eval_command(args: argparse.Namespace) -> int:
    from pipeline.eval_report import new_report_dir, run_eval, run_over_redaction

    if args.eval_command == "assertion":
        return run_assertion_command(args)
    if args.eval_command == "entities":
        return run_entities_command(args)
    if args.eval_command == "codes":
        from pipeline.eval_codes import run_codes_command

        return run_codes_command(args)
    if args.report_dir is None:
        args.report_dir = str(new_report_dir())
        print(f"reports in {args.report_dir} (owner only)")
    if args.over_redaction:
        result = run_over_redaction(args.over_redaction, args.pred, args.report_dir)
        print(
            f"records {result['records']} (not released {result['records_not_released']}), "
            f"words {result['words']}"
        )
        print(
            f"redacted {result['redacted_words']} words = "
            f"{result['redacted_per_1000']:.2f} per 1,000"
        )
        for phi_type, m in result["by_type"].items():
            print(f"  {phi_type:<10} {m['redacted_per_1000']:.2f} per 1,000")
        print(f"most redacted words in {args.report_dir}/over_redacted_words.jsonl (owner only)")
        return 0

    metrics = run_eval(
        args.gold, args.pred, args.report_dir, args.exclude_type, score_titles=args.score_titles
    )
    token, entity = metrics["token"]["ALL"], metrics["entity"]["ALL"]
    print(f"records {metrics['records']} (quarantined {metrics['quarantined_records']})")
    print(
        f"token  recall {token['recall']:.4f} precision {token['precision']:.4f} "
        f"F1 {token['f1']:.4f} F2 {token['f2']:.4f}"
    )
    print(
        f"entity recall {entity['recall']:.4f} precision {entity['precision']:.4f} "
        f"F1 {entity['f1']:.4f} F2 {entity['f2']:.4f}"
    )
    for phi_type, m in metrics["token"].items():
        if phi_type != "ALL":
            print(
                f"  {phi_type:<10} token recall {m['recall']:.4f} precision "
                f"{m['precision']:.4f} support {m['support']}"
            )
    hard = metrics["hard_negatives"]
    print(
        f"hard negatives over-redacted {hard['over_redacted']}/{hard['records']} "
        f"({hard['over_redaction_rate']:.2%})"
    )
    print(
        f"missed entities: {metrics['missed_entities']} (listed in {args.report_dir}/leaks.jsonl)"
    )
    return 0
