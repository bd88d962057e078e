"""`deidcode eval phi` on a real run: figures on stdout, PHI only in the owner-only leak file."""

import json
from pathlib import Path

from pipeline.cli import main
from tests.conftest import REPO_ROOT
from tests.pipeline.helpers import run_export, write_jsonl


def patterns_only_config(folder):
    """The eval config with the pattern detector alone, so what it finds is certain."""
    config = folder / "patterns_only.yaml"
    config.write_text(
        (REPO_ROOT / "examples" / "eval_config.yaml").read_text()
        + "detection:\n  detectors:\n    - name: presidio_patterns\n"
    )
    return config


def test_eval_reports_figures_and_keeps_leaks_private(tmp_path, run_key, capsys):
    gold = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            {
                "id": "g1",
                "patient_id": "p",
                "text": "Seen by Dr. Roe on 03/14/2021.",
                "spans": [
                    {"start": 12, "end": 15, "label": "DOCTOR", "hipaa": "NAME"},
                    {"start": 19, "end": 29, "label": "DATE", "hipaa": "DATE"},
                ],
            },
            {
                "id": "g2",
                "patient_id": "p",
                "text": "Zanzibar Quill called.",
                "spans": [{"start": 0, "end": 14, "label": "PATIENT", "hipaa": "NAME"}],
            },
            {
                "id": "g3",
                "patient_id": "p",
                "text": "History of Parkinson disease.",
                "spans": [],
                "hard_negative": True,
            },
        ],
    )
    # Patterns only, so that the unlabelled name is certainly missed.
    config = patterns_only_config(tmp_path)
    run = tmp_path / "run"
    assert run_export(gold, run, config=config) == 0
    capsys.readouterr()
    report = tmp_path / "report"
    assert (
        main(["eval", "phi", "--gold", str(gold), "--pred", str(run), "--report-dir", str(report)])
        == 0
    )
    out = capsys.readouterr().out
    assert "token  recall 0.6667" in out  # Roe, 03, 14, 2021 found; Zanzibar, Quill missed
    assert "hard negatives over-redacted 0/1" in out
    assert "Zanzibar" not in out
    leaks = report / "leaks.jsonl"
    assert leaks.stat().st_mode & 0o077 == 0
    assert json.loads(leaks.read_text())["surface"] == "Zanzibar Quill"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["entity"]["NAME"]["recall"] == 0.5
    html = (report / "report.html").read_text()
    assert "data:image/png;base64," in html and "Zanzibar" not in html


def test_eval_refuses_an_unfinished_run(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    gold = write_jsonl(tmp_path / "g.jsonl", [{"id": "a", "text": "x", "spans": []}])
    assert main(["eval", "phi", "--gold", str(gold), "--pred", str(tmp_path / "run")]) == 2
    assert "no _SUCCESS" in capsys.readouterr().err


def test_over_redaction_counts_redacted_words_and_keeps_them_private(tmp_path, run_key, capsys):
    texts = write_jsonl(
        tmp_path / "no_phi.jsonl",
        [
            # A phone number the patterns will certainly take, in text that is otherwise clean.
            {"id": "t1", "patient_id": "p", "text": "Serology negative; call 617-555-0199 back."},
            {"id": "t2", "patient_id": "p", "text": "No acute distress today."},
        ],
    )
    config = patterns_only_config(tmp_path)
    run = tmp_path / "run"
    assert run_export(texts, run, config=config) == 0
    capsys.readouterr()
    report = tmp_path / "report"
    argv = ["eval", "phi", "--over-redaction", str(texts), "--pred", str(run)]
    assert main([*argv, "--report-dir", str(report)]) == 0
    out = capsys.readouterr().out
    # 11 words; 617, 555 and 0199 are redacted: 3 of 11 = 272.73 per 1,000.
    assert "redacted 3 words = 272.73 per 1,000" in out
    assert "CONTACT    272.73 per 1,000" in out
    assert "617" not in out and "Serology" not in out
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["words"] == 11 and metrics["by_type"]["CONTACT"]["redacted_words"] == 3
    words = report / "over_redacted_words.jsonl"
    assert words.stat().st_mode & 0o077 == 0
    assert {json.loads(line)["word"] for line in words.read_text().splitlines()} == {
        "617",
        "555",
        "0199",
    }


def test_over_redaction_of_a_file_the_run_never_saw_is_an_error(tmp_path, run_key, capsys):
    texts = write_jsonl(tmp_path / "a.jsonl", [{"id": "a1", "patient_id": "p", "text": "Fine."}])
    other = write_jsonl(tmp_path / "b.jsonl", [{"id": "b1", "patient_id": "p", "text": "Fine."}])
    run = tmp_path / "run"
    config = REPO_ROOT / "examples" / "eval_config.yaml"
    assert run_export(texts, run, config=config) == 0
    argv = ["eval", "phi", "--over-redaction", str(other), "--pred", str(run)]
    assert main([*argv, "--report-dir", str(tmp_path / "r")]) == 2
    assert "only 0 of the 1 records of" in capsys.readouterr().err


def test_eval_refuses_a_run_that_saw_under_90_percent_of_the_gold(tmp_path, run_key, capsys):
    records = [{"id": f"g{i}", "patient_id": "p", "text": "Fine.", "spans": []} for i in range(10)]
    gold = write_jsonl(tmp_path / "gold.jsonl", records)
    partial = write_jsonl(tmp_path / "partial.jsonl", records[:8])  # 8 of 10 seen by the run
    run = tmp_path / "run"
    assert run_export(partial, run, config=REPO_ROOT / "examples" / "eval_config.yaml") == 0
    argv = ["eval", "phi", "--gold", str(gold), "--pred", str(run)]
    assert main([*argv, "--report-dir", str(tmp_path / "r")]) == 2
    assert "only 8 of the 10 records" in capsys.readouterr().err


def test_eval_without_report_dir_writes_to_a_new_owner_only_directory(
    tmp_path, run_key, capsys, monkeypatch
):
    records = [{"id": "g1", "patient_id": "p", "text": "Seen by Dr. Roe.", "spans": []}]
    gold = write_jsonl(tmp_path / "gold.jsonl", records)
    run = tmp_path / "run"
    assert run_export(gold, run, config=REPO_ROOT / "examples" / "eval_config.yaml") == 0
    monkeypatch.chdir(tmp_path)  # nothing may land in the working directory
    capsys.readouterr()
    assert main(["eval", "phi", "--gold", str(gold), "--pred", str(run)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("reports in ") and line.endswith(" (owner only)")
    report = Path(line.removeprefix("reports in ").removesuffix(" (owner only)"))
    assert (report / "leaks.jsonl").exists() and report.stat().st_mode & 0o077 == 0
    assert not (tmp_path / "eval_report").exists()


def test_eval_assertion_scores_the_rules_on_gold_spans(tmp_path, capsys):
    def span(text, problem, **labels):
        start = text.index(problem)
        return {"start": start, "end": start + len(problem), **labels}

    records = [
        ("a", "No fever.", "fever", {"negated": True}),
        ("b", "History of asthma.", "asthma", {"temporality": "historical"}),
        ("c", "Call if rash appears.", "rash", {"temporality": "hypothetical"}),
        ("d", "Grandpa had gout.", "gout", {"experiencer": "other"}),  # not in the rules
        ("e", "Cough for two days.", "Cough", {}),
    ]
    gold = write_jsonl(
        tmp_path / "assertion.jsonl",
        [{"id": i, "text": t, "spans": [span(t, p, **labels)]} for i, t, p, labels in records],
    )
    report = tmp_path / "report"
    args = ["eval", "assertion", "--gold", str(gold), "--report-dir", str(report)]
    assert main(args) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["negated"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert metrics["historical"]["f1"] == 1.0 and metrics["hypothetical"]["f1"] == 1.0
    assert metrics["family"] == {"precision": 1.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert "family        precision 1.0000 recall 0.0000" in capsys.readouterr().out
    disagreements = (report / "disagreements.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in disagreements] == [
        {"id": "d", "start": 12, "flag": "family", "error": "fn"}
    ]

    # A hospital's own rule, added to the bundled ones, closes the gap.
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "context_rules:\n  - {literal: grandpa, category: FAMILY, direction: FORWARD}\n"
    )
    assert main([*args, "--rules", str(rules)]) == 0
    assert json.loads((report / "metrics.json").read_text())["family"]["recall"] == 1.0


def test_eval_assertion_names_a_bad_gold_line(tmp_path, capsys):
    gold = tmp_path / "bad.jsonl"
    gold.write_text(
        '{"id": "a", "text": "No fever.", "spans": [{"start": 3, "end": 8}]}\n'
        '{"id": "b", "text": "x", "spans": [{"start": 0, "end": 1, "temporality": "later"}]}\n'
    )
    assert main(["eval", "assertion", "--gold", str(gold), "--report-dir", str(tmp_path)]) == 2
    assert "bad.jsonl line 2 span 0: temporality must be one of" in capsys.readouterr().err
