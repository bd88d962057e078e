"""A registry model runs inside `deidcode run`, beside the pattern detector, fail-closed."""

import json

from pipeline.cli import main
from tests.onnx_models.lookup_model import FILLER, build_lookup_registry
from tests.pipeline.helpers import manifest, run_export, table, write_jsonl


def _config(tmp_path, model_dir, *, with_patterns=True, device="cpu"):
    patterns = "    - name: presidio_patterns\n" if with_patterns else ""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"detection:\n  detectors:\n{patterns}    - name: onnx_ner\n"
        f"      options: {{model: {model_dir}, device: {device}, batch_size: 8}}\n"
    )
    return config


def test_model_and_patterns_run_together(tmp_path, run_key):
    model_dir = build_lookup_registry(tmp_path / "registry")
    notes = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"note_id": "a", "patient_id": "p1", "text": "john smith called 617-555-0199"},
            {"note_id": "b", "patient_id": "p1", "text": "poison " + " ".join(FILLER)},
            {"note_id": "c", "patient_id": "p2", "text": " ".join(FILLER * 6) + " maria okafor"},
        ],
    )
    out = tmp_path / "out"
    code = run_export(notes, out, config=_config(tmp_path, model_dir))
    assert code == 0
    released = {n["note_id"]: n["text_deid"] for n in table(out, "notes")}
    assert released["a"] == "[NAME] called [CONTACT]"
    assert released["c"].endswith("[NAME]")
    quarantine = table(out, "quarantine")
    assert [(q["note_id"], q["reason"]) for q in quarantine] == [("b", "detector_failed")]
    assert "onnx_ner" in quarantine[0]["detail"] and "poison" not in quarantine[0]["detail"]
    detectors = {s["detector"] for s in table(out, "phi_spans")}
    assert detectors == {"onnx_ner:lookup_ner", "presidio_patterns"}
    m = manifest(out)
    assert m["models"][0]["name"] == "lookup_ner" and m["models"][0]["variant"] == "fp32"
    assert {d["name"] for d in m["detectors"]} == {"presidio_patterns", "onnx_ner"}
    audit = [a for a in table(out, "audit") if a["outcome"] == "released"]
    assert all("lookup_ner" in a["detectors"] for a in audit)
    assert json.loads(audit[0]["detectors"])[1]["model_version"] == "test"


def test_a_tampered_model_stops_the_run_before_it_starts(tmp_path, run_key, capsys):
    model_dir = build_lookup_registry(tmp_path / "registry")
    (model_dir / "tokenizer.json").write_text("{}")
    notes = write_jsonl(tmp_path / "in.jsonl", [{"note_id": "a", "patient_id": "p", "text": "x"}])
    out = tmp_path / "out"
    code = run_export(notes, out, config=_config(tmp_path, model_dir))
    assert code == 2
    assert "tokenizer.json has sha256" in capsys.readouterr().err
    assert not out.exists()


def test_cuda_asked_for_without_a_gpu_stops_the_run(tmp_path, run_key, capsys):
    model_dir = build_lookup_registry(tmp_path / "registry")
    config = _config(tmp_path, model_dir, with_patterns=False, device="cuda")
    notes = write_jsonl(tmp_path / "in.jsonl", [{"note_id": "a", "patient_id": "p", "text": "x"}])
    code = run_export(notes, tmp_path / "o", config=config)
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert code == 0
    else:
        assert code == 2
        assert "no CUDA execution provider" in capsys.readouterr().err


def test_a_sentence_encoder_configured_as_a_phi_model_stops_the_run(tmp_path, run_key, capsys):
    config = _config(tmp_path, "sentence_minilm", with_patterns=False)
    notes = write_jsonl(tmp_path / "in.jsonl", [{"note_id": "a", "patient_id": "p", "text": "x"}])
    code = run_export(notes, tmp_path / "o", config=config)
    assert code == 2
    assert "sentence_minilm is a feature-extraction model" in capsys.readouterr().err


def test_models_list_names_each_models_task(capsys):
    assert main(["models", "list"]) == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert rows["sentence_minilm"][2:] == ["feature-extraction", "int8"]
    assert rows["deid_phi_minilm"][2] == "token-classification"
