"""The distillation recipe's student and loss (issue 18's smaller model). Needs the
train extra; a tiny random BERT stands in for the teacher, so nothing is loaded."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.export
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from onnx_models.recipes.distil_phi import distillation_loss, shallow_copy_of  # noqa: E402
from onnx_models.recipes.token_training import IGNORE, Batch  # noqa: E402


def tiny_teacher(layers: int = 4):
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=5,
    )
    return transformers.BertForTokenClassification(config).eval()


def test_student_keeps_the_named_layers_and_everything_else():
    teacher = tiny_teacher()
    student = shallow_copy_of(teacher, [1, 3]).eval()
    assert student.config.num_hidden_layers == 2
    assert teacher.config.num_hidden_layers == 4  # the teacher is not changed
    ids = torch.tensor([[2, 7, 9, 11, 3]])
    # The student is the teacher's embeddings, layers 1 and 3, and classifier.
    with torch.no_grad():
        hidden = teacher.bert.embeddings(input_ids=ids)
        for index in (1, 3):
            hidden = teacher.bert.encoder.layer[index](hidden)[0]
        expected = teacher.classifier(hidden)
        got = student(input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-5)
    # Its parameters are copies: training it leaves the teacher alone.
    student.classifier.weight.data.add_(1.0)
    assert not torch.equal(student.classifier.weight, teacher.classifier.weight)


@pytest.mark.parametrize("layers", [[], [4], [-1]])
def test_student_layers_must_exist(layers):
    with pytest.raises(SystemExit, match="--keep-layers"):
        shallow_copy_of(tiny_teacher(), layers)


def test_loss_is_the_gold_cross_entropy_when_the_student_is_the_teacher():
    teacher = tiny_teacher()
    ids = torch.tensor([[2, 7, 9, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0]])
    labels = torch.tensor([[IGNORE, 1, 0, IGNORE, IGNORE]])
    batch = Batch(ids, mask, labels, None)
    with torch.no_grad():
        logits = teacher(input_ids=ids, attention_mask=mask).logits
    loss = distillation_loss(teacher, temperature=2.0, soft_weight=0.7)(logits, batch)
    # KL(teacher || itself) is 0, so only the gold term's 0.3 share is left.
    gold = torch.nn.functional.cross_entropy(logits[0, 1:3], labels[0, 1:3])
    assert torch.isclose(loss, 0.3 * gold, atol=1e-6)
    # A student that differs from the teacher pays for it.
    assert distillation_loss(teacher, temperature=2.0, soft_weight=0.7)(-logits, batch) > loss
