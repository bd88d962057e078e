"""The synthetic corpus generator: deterministic across processes, spans that point
at their values, and disjoint template pools. Needs Faker (train or test extra)."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("faker")

from onnx_models.recipes.phi_corpus import CorpusConfig, generate  # noqa: E402
from onnx_models.recipes.phi_templates import NEGATIVES, SENTENCES, _split_of  # noqa: E402

DIGEST = (
    "import hashlib, json\n"
    "from onnx_models.recipes.phi_corpus import CorpusConfig, generate\n"
    "print(hashlib.sha256(json.dumps(generate(CorpusConfig('train', 200, 3))).encode())"
    ".hexdigest())\n"
)


def test_same_seed_same_corpus_across_processes_and_hash_seeds():
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", DIGEST], capture_output=True, text=True, env=env, check=True
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1
    here = hashlib.sha256(json.dumps(generate(CorpusConfig("train", 200, 3))).encode())
    assert {here.hexdigest()} == digests


def test_spans_are_nonempty_and_in_bounds():
    for record in generate(CorpusConfig("test", 100, 9)):
        for span in record["spans"]:
            value = record["text"][span["start"] : span["end"]]
            assert value.strip() == value and value


def test_some_templates_are_held_out_for_the_test_split():
    held_out = {t.__name__ for t in SENTENCES + NEGATIVES if _split_of(t) == "test"}
    assert held_out and len(held_out) < len(SENTENCES + NEGATIVES)
