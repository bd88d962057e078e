"""The entity step inside `deidcode run`: entities/ written on the redacted text,
fail-closed, switchable, and scored by `deidcode eval entities`."""

import json

import pytest

from pipeline.cli import main
from tests.onnx_models.lookup_model import build_lookup_registry
from tests.pipeline.helpers import manifest, run_export, table, write_jsonl


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    directory = tmp_path_factory.mktemp("registry")
    return {
        "phi": build_lookup_registry(directory),
        "clinical": build_lookup_registry(directory, clinical=True),
    }


def _config(tmp_path, registry, *, phi_model=True, entities="enabled: true", coding=True):
    detectors = "    - name: presidio_patterns\n"
    if phi_model:
        detectors += f"    - name: onnx_ner\n      options: {{model: {registry['phi']}}}\n"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"detection:\n  detectors:\n{detectors}"
        f"entities:\n  {entities}\n  model: {registry['clinical']}\n"
        f"coding:\n  enabled: {'true' if coding else 'false'}\n"
    )
    return config


def test_entities_are_released_on_the_redacted_text(tmp_path, run_key, registry):
    notes = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"note_id": "a", "patient_id": "p1", "text": "patient denies asthma, takes aspirin"},
            {"note_id": "b", "patient_id": "p1", "text": "john smith syndrome and diabetes"},
            {"note_id": "c", "patient_id": "p2", "text": "mother has diabetes. call 617-555-0199"},
        ],
    )
    out = tmp_path / "out"
    assert run_export(notes, out, config=_config(tmp_path, registry)) == 0
    released = {n["note_id"]: n["text_deid"] for n in table(out, "notes")}
    rows = table(out, "entities")
    got = {(r["note_id"], r["text_deid"], r["label"], r["negated"], r["family"]) for r in rows}
    assert got == {
        ("a", "asthma", "PROBLEM", True, False),
        ("a", "aspirin", "DRUG", True, False),
        # "smith" is a name to the PHI model and opens a problem to the clinical one.
        ("b", "[NAME] syndrome", "PROBLEM", False, False),
        ("b", "diabetes", "PROBLEM", False, False),
        ("c", "diabetes", "PROBLEM", False, True),
    }
    for row in rows:
        assert released[row["note_id"]][row["start_deid"] : row["end_deid"]] == row["text_deid"]
    smith = next(r for r in rows if r["note_id"] == "b" and r["text_deid"].endswith("syndrome"))
    assert (smith["start"], smith["end"]) == (5, 19)  # original offsets: "smith syndrome"
    assert not any("smith" in json.dumps(r) for r in rows)
    m = manifest(out)
    assert m["counts"]["entities"] == 5
    assert m["entity_step"]["model"] == "lookup_clinical"
    assert [model["name"] for model in m["models"]] == ["lookup_ner", "lookup_clinical"]
    assert len({r["entity_id"] for r in rows}) == 5


def test_a_failed_entity_step_quarantines_only_its_note(tmp_path, run_key, registry):
    notes = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"note_id": "a", "patient_id": "p1", "text": "asthma today"},
            {"note_id": "b", "patient_id": "p1", "text": "poison asthma"},
            {"note_id": "c", "patient_id": "p2", "text": "no pain"},
        ],
    )
    out = tmp_path / "out"
    config = _config(tmp_path, registry, phi_model=False)
    assert run_export(notes, out, config=config) == 0
    assert sorted(n["note_id"] for n in table(out, "notes")) == ["a", "c"]
    [quarantined] = table(out, "quarantine")
    assert (quarantined["note_id"], quarantined["reason"]) == ("b", "entities_failed")
    assert "lookup_clinical" in quarantined["detail"] and "poison" not in quarantined["detail"]
    assert [r["note_id"] for r in table(out, "entities")] == ["a"]
    m = manifest(out)
    assert m["quarantine_by_reason"] == {"entities_failed": 1}
    assert m["counts"]["records_read"] == 3


def test_the_step_can_be_turned_off(tmp_path, run_key, registry):
    notes = write_jsonl(
        tmp_path / "in.jsonl", [{"note_id": "a", "patient_id": "p", "text": "poison asthma"}]
    )
    out = tmp_path / "out"
    config = _config(tmp_path, registry, phi_model=False, entities="enabled: false", coding=False)
    assert run_export(notes, out, config=config) == 0
    assert [n["note_id"] for n in table(out, "notes")] == ["a"]  # the model never ran
    assert table(out, "entities") == []
    m = manifest(out)
    assert m["entity_step"] is None and m["counts"]["entities"] == 0 and m["models"] == []


def test_a_bad_entities_option_stops_the_run_naming_it(tmp_path, run_key, registry, capsys):
    notes = write_jsonl(tmp_path / "in.jsonl", [{"note_id": "a", "patient_id": "p", "text": "x"}])
    config = _config(tmp_path, registry, entities="options: {treshold: 0.4}")
    assert run_export(notes, tmp_path / "out", config=config) == 2
    err = capsys.readouterr().err
    assert "entities.options: unknown option(s) ['treshold']" in err
    assert "Traceback" not in err


def test_eval_entities_scores_a_run_on_small_gold(tmp_path, run_key, registry, capsys):
    gold = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            # found exactly: asthma (Disease), aspirin (Chemical)
            {"id": "g1", "doc_id": "d1", "text": "asthma and aspirin",
             "spans": [{"start": 0, "end": 6, "label": "Disease"},
                       {"start": 11, "end": 18, "label": "Chemical"}]},
            # gold "smith syndrome" vs predicted "smith syndrome": exact; "diabetes" missed
            # in gold; the run also finds "pneumonia", which gold lacks
            {"id": "g2", "doc_id": "d2", "text": "smith syndrome, pneumonia",
             "spans": [{"start": 0, "end": 14, "label": "Disease"}]},
            # gold is wider than the prediction: overlap only
            {"id": "g3", "doc_id": "d3", "text": "severe asthma attack",
             "spans": [{"start": 0, "end": 20, "label": "Disease"},
                       {"start": 0, "end": 6, "label": "Gene"}]},
        ],
    )  # fmt: skip
    config = tmp_path / "eval.yaml"
    config.write_text(
        "input:\n  columns: {note_id: id, patient_id: doc_id, text: text, note_date: null,"
        " encounter_id: null, note_type: null, author: null}\n"
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        f"entities:\n  model: {registry['clinical']}\n"
    )
    out = tmp_path / "run"
    assert run_export(gold, out, config=config) == 0
    report = tmp_path / "report"
    code = main(
        ["eval", "entities", "--gold", str(gold), "--pred", str(out), "--report-dir", str(report)]
    )
    assert code == 0
    metrics = json.loads((report / "metrics.json").read_text())
    # PROBLEM: predictions asthma, smith syndrome, pneumonia, asthma(g3); gold 3.
    assert metrics["PROBLEM"] == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714, "support": 3}
    assert metrics["overlap"]["PROBLEM"] == {
        "precision": 0.75, "recall": 1.0, "f1": 0.8571, "support": 3
    }  # fmt: skip
    assert metrics["DRUG"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert "Gene" not in json.dumps(metrics["labels"])
    printed = capsys.readouterr().out
    assert "PROBLEM  exact   precision 0.5000 recall 0.6667" in printed


def test_eval_entities_refuses_a_bad_label_map(tmp_path, capsys):
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"id": "g", "text": "x", "spans": []}])
    code = main(
        ["eval", "entities", "--gold", str(gold), "--pred", str(tmp_path), "--label-map", "Disease"]
    )
    assert code == 2
    assert "expected GOLD=OURS pairs" in capsys.readouterr().err
