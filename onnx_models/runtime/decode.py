"""Decode per-token label probabilities into character spans (BIO, BIOES or IO).

Sub-word tokens are grouped into words first: a word takes the label of its
first sub-token, as in Hugging Face's "first" aggregation, so an entity never
starts or ends inside a word. Then word labels are decoded into entities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Entity:
    start: int  # character offsets, end-exclusive
    end: int
    label: str  # the model's entity label without its B-/I-/E-/S- prefix
    score: float


def split_label(label: str, scheme: str) -> tuple[str, str | None]:
    """``B-NAME`` -> (``B``, ``NAME``); ``O`` -> (``O``, None). IO labels have no prefix."""
    if label == "O":
        return "O", None
    if scheme != "IO" or "-" in label[:2]:
        prefix, _, entity = label.partition("-")
        if prefix in {"B", "I", "E", "S"} and entity:
            return prefix, entity
    return "I", label


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    label: str
    score: float


def words_from_tokens(
    probs: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    word_ids: Sequence[int | None],
    id2label: Mapping[int, str],
    *,
    entity_mass: float | None = None,
) -> list[Word]:
    """Group tokens by word id; each word takes its first sub-token's label and probability.

    With ``entity_mass``, a word whose most probable label is O but whose entity
    labels together reach ``entity_mass`` (1 - P(O)) takes its most probable
    entity label instead, scored by that mass: a recall lever for a model that
    leans towards O, which can only add entity words, never remove one.
    """
    outside = next((i for i, label in id2label.items() if label == "O"), None)
    words: list[Word] = []
    current: int | None = None
    for index, word_id in enumerate(word_ids):
        start, end = offsets[index]
        if word_id is None or start == end:
            current = None
            continue
        if word_id == current and words:
            last = words[-1]
            words[-1] = Word(last.start, max(last.end, end), last.label, last.score)
            continue
        current = word_id
        token = probs[index]
        label_id = int(np.argmax(token))
        score = float(token[label_id])
        if entity_mass is not None and label_id == outside and 1.0 - score >= entity_mass:
            label_id = int(np.argmax(np.where(np.arange(len(token)) == outside, -1.0, token)))
            score = 1.0 - float(token[outside])
        words.append(Word(start, end, id2label[label_id], score))
    return words


def decode_entities(words: Sequence[Word], scheme: str) -> list[Entity]:
    """Turn labelled words into entities. Lenient: an I- after O starts an entity."""
    entities: list[Entity] = []
    open_label: str | None = None
    open_start = open_end = 0
    scores: list[float] = []

    def close() -> None:
        nonlocal open_label, scores
        if open_label is not None:
            entities.append(Entity(open_start, open_end, open_label, float(np.mean(scores))))
        open_label, scores = None, []

    for word in words:
        prefix, entity = split_label(word.label, scheme)
        if entity is None:
            close()
            continue
        continues = open_label == entity and prefix in {"I", "E"}
        if not continues:
            close()
            open_label, open_start, scores = entity, word.start, []
        open_end = word.end
        scores.append(word.score)
        if prefix in {"E", "S"}:
            close()
    close()
    return entities


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


# Punctuation a model may attach to an entity's edge: "Whitlock (", ", Oduya".
_EDGE = set(' \t\r\n,;:()[]{}"<>|/')


def trim_entity(entity: Entity, text: str) -> Entity | None:
    """Drop white space and bracketing punctuation from an entity's edges.

    Characters inside names ("O'Brien", "Smith-Jones", "Robert L.") are kept.
    Returns None when nothing is left.
    """
    start, end = entity.start, entity.end
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if start == end:
        return None
    return Entity(start, end, entity.label, entity.score)


def split_at_line_breaks(entity: Entity, text: str) -> list[Entity]:
    """The entity's pieces on each line, trimmed, each with the entity's label and score.

    A header word on the next line ("BAPTISTE, LIONEL\nACCESSION #") can continue an
    entity when the model gives it a little of the label's probability; as a piece
    of its own it is judged on its own by the span filters."""
    pieces, start = [], entity.start
    while (newline := text.find("\n", start, entity.end)) >= 0:
        pieces.append(Entity(start, newline, entity.label, entity.score))
        start = newline + 1
    pieces.append(Entity(start, entity.end, entity.label, entity.score))
    trimmed = (trim_entity(piece, text) for piece in pieces)
    return [piece for piece in trimmed if piece is not None]
