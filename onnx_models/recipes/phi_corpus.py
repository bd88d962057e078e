"""Deterministic synthetic corpus of clinical notes with labelled fictional PHI.

``generate(split, n, seed)`` composes notes from sentence templates in many
note types (discharge summaries, progress, ICU and nursing notes, radiology and
pathology reports, referral letters, telephone encounters, clinician
questions) and styles (ALL CAPS, lowercase, terse, line-wrapped, lists). The
``test`` split uses templates the ``train`` split never sees, and another seed,
so memorised templates show up as a gap between the two.

Records follow the shared gold format: ``{"id", "text", "spans": [{"start",
"end", "label"}]}`` with ``label`` a deidcode subtype.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from onnx_models.recipes.phi_templates import HEADERS, NEGATIVES, SENTENCES, Part, _split_of
from onnx_models.recipes.phi_values import ValueFactory


class Render:
    """Concatenate parts, applying a case style, and record the spans' offsets."""

    def __init__(self, style: str, rng: random.Random) -> None:
        self.style, self.rng = style, rng
        self.chunks: list[str] = []
        self.spans: list[dict[str, object]] = []
        self.length = 0

    def _case(self, text: str) -> str:
        if self.style == "upper":
            return text.upper()
        if self.style == "lower":
            return text.lower()
        return text

    def add(self, part: Part) -> None:
        if isinstance(part, tuple):
            value, label = part
            value = self._case(value)
            if label != "YEAR_NOT_PHI":  # years alone are not PHI under Safe Harbor
                self.spans.append(
                    {"start": self.length, "end": self.length + len(value), "label": label}
                )
        else:
            value = self._case(part)
            if self.style == "wrapped":
                value = "".join(
                    "\n" if ch == " " and self.rng.random() < 0.08 else ch for ch in value
                )
        self.chunks.append(value)
        self.length += len(value)

    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True)
class CorpusConfig:
    split: str  # train or test
    n_notes: int
    seed: int


def generate(config: CorpusConfig) -> list[dict[str, object]]:
    """The corpus for one split; the same config always gives the same records."""
    rng = random.Random(config.seed)
    values = ValueFactory(config.seed)
    pool = [t for t in SENTENCES if _split_of(t) == config.split] or SENTENCES
    negatives = [t for t in NEGATIVES if _split_of(t) == config.split] or NEGATIVES
    records = []
    for index in range(config.n_notes):
        note_type = rng.choice(list(HEADERS))
        style = rng.choices(
            ["normal", "upper", "lower", "wrapped", "list"], weights=[45, 15, 15, 15, 10]
        )[0]
        render = Render("normal" if style == "list" else style, rng)
        render.add(rng.choice(HEADERS[note_type]))
        n_sentences = 1 if note_type == "question" else rng.randint(2, 9)
        for position in range(n_sentences):
            template = rng.choice(negatives) if rng.random() < 0.3 else rng.choice(pool)
            if style == "list":
                render.add(f"{position + 1}. ")
            for part in template(values, rng):
                render.add(part)
            render.add("\n" if style == "list" or rng.random() < 0.3 else " ")
        records.append(
            {
                "id": f"{config.split}-{config.seed}-{index:06d}",
                "text": render.text(),
                "spans": render.spans,
            }
        )
    return records
