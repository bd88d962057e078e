"""Export tiny, randomly initialised models of the four OpenMed families and compare
ONNX fp32 logits with PyTorch. Needs the export extra; skipped cleanly without it."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.export
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("optimum.exporters.onnx")

from tokenizers import (  # noqa: E402
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,  # noqa: E402
)

from onnx_models.export import export_model, infer_label_scheme  # noqa: E402
from onnx_models.registry import load_bundle  # noqa: E402
from transforms.detection.ner.engine import NerSettings, OnnxNerModel  # noqa: E402

LABELS = ["O", "B-NAME", "I-NAME", "B-DATE", "I-DATE"]
CORPUS = [
    "the patient john smith was seen on monday by doctor maria okafor",
    "history of diabetes and hypertension , follow up in two weeks",
    "chest x ray showed no acute findings ; plan discharge home today",
] * 20
SHORT = "john smith seen monday"
LONG = " ".join(CORPUS[:12])


def _wordpiece(with_lowercase: bool = True):
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=with_lowercase)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )


def _byte_level_bpe():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tokenizer.token_to_id("</s>")), ("<s>", tokenizer.token_to_id("<s>"))
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=64,
    )


TINY = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


def _config(family: str, tokenizer):
    common = {
        **TINY,
        "vocab_size": len(tokenizer),
        "num_labels": len(LABELS),
        "id2label": dict(enumerate(LABELS)),
        "label2id": {label: i for i, label in enumerate(LABELS)},
        "pad_token_id": tokenizer.pad_token_id,
    }
    if family == "bert":
        return transformers.BertConfig(max_position_embeddings=64, **common)
    if family == "roberta":
        return transformers.RobertaConfig(
            max_position_embeddings=66,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            **common,
        )
    if family == "deberta-v2":
        return transformers.DebertaV2Config(
            max_position_embeddings=64,
            relative_attention=True,
            position_buckets=16,
            pos_att_type=["p2c", "c2p"],
            **common,
        )
    return transformers.ElectraConfig(max_position_embeddings=64, embedding_size=32, **common)


@pytest.fixture(scope="module", params=["bert", "roberta", "deberta-v2", "electra"])
def exported(request, tmp_path_factory):
    family = request.param
    torch.manual_seed(0)
    tokenizer = _byte_level_bpe() if family == "roberta" else _wordpiece()
    model = transformers.AutoModelForTokenClassification.from_config(_config(family, tokenizer))
    model.eval()
    checkpoint = tmp_path_factory.mktemp(family) / "checkpoint"
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    registry = tmp_path_factory.mktemp("registry")
    manifest = export_model(
        str(checkpoint),
        f"tiny_{family}",
        int8=True,
        fp16=True,
        registry_dir=registry,
        max_length=32,
        stride=8,
        license="Apache-2.0",
    )
    return family, model, tokenizer, registry / manifest.name


def _torch_logits(model, ids):
    with torch.no_grad():
        tensor = torch.tensor([ids])
        return model(input_ids=tensor, attention_mask=torch.ones_like(tensor)).logits[0].numpy()


def test_manifest_records_the_export(exported):
    family, _, _, directory = exported
    manifest = load_bundle(directory).manifest
    assert set(manifest.variants) == {"fp32", "int8", "fp16"}
    assert manifest.label_scheme == "BIO" and manifest.id2label[1] == "B-NAME"
    assert manifest.max_length == 32 and manifest.stride == 8
    assert (directory / "MODEL_CARD.md").exists()


@pytest.mark.parametrize("text", [SHORT, LONG], ids=["short", "long"])
def test_onnx_fp32_matches_pytorch_on_every_window(exported, text):
    family, model, tokenizer, directory = exported
    engine = OnnxNerModel(load_bundle(directory), NerSettings(model=str(directory), variant="fp32"))
    note = engine.tokenize(text)
    if text is LONG:
        assert len(note.windows) > 3  # multi-window
    special = engine.manifest.special_tokens
    rows = [note.ids[w.start : w.end] for w in note.windows]
    onnx_logits = engine._infer_rows(rows)  # batched and padded, as in production
    for row, got in zip(rows, onnx_logits, strict=True):
        expected = _torch_logits(model, [special.start, *row, special.end])[1:-1]
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_int8_and_fp16_variants_run_and_roughly_agree(exported):
    family, model, tokenizer, directory = exported
    bundle = load_bundle(directory)
    rows = [
        OnnxNerModel(bundle, NerSettings(model=str(directory), variant="fp32")).tokenize(SHORT).ids
    ]
    outputs = {
        variant: OnnxNerModel(
            bundle, NerSettings(model=str(directory), variant=variant)
        )._infer_rows(rows)[0]
        for variant in ("fp32", "int8", "fp16")
    }
    assert np.abs(outputs["fp16"] - outputs["fp32"]).max() < 1e-2
    assert np.abs(outputs["int8"] - outputs["fp32"]).max() < 0.5


def test_label_scheme_inference():
    assert infer_label_scheme(["O", "B-X", "I-X"]) == "BIO"
    assert infer_label_scheme(["O", "B-X", "E-X", "S-X", "I-X"]) == "BIOES"
    assert infer_label_scheme(["O", "NAME", "DATE"]) == "IO"


def test_a_hub_id_is_refused_without_touching_the_network(tmp_path):
    from onnx_models.registry import ModelRegistryError

    with pytest.raises(ModelRegistryError, match="local folder only and never downloads"):
        export_model("OpenMed/some-ner-model", "x", registry_dir=tmp_path)
    assert not (tmp_path / "x").exists()
