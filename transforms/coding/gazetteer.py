"""Coder mentions: phrases the training lexicon knows that the NER model did not find.

The clinical NER model misses many symptoms and findings a coder codes
("fever", "pallor", "myalgias" in a list). Where a phrase of one to three words
inside a sentence has a lexicon key seen in at least ``min_documents``
training documents, and overlaps no PROBLEM entity, it becomes a coder
mention. The caller asserts these with the same ConText rules as entities
before they are coded, so "no fever" stays uncoded by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from transforms.coding.features import Lexicon, surface_key
from transforms.coding.lexical import STOP_WORDS
from transforms.core.entities import Assertion, ClinicalEntity
from transforms.core.text import fold

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_BREAK = re.compile(r"[.,;:!?()\[\]\n]")
MAX_WORDS = 3
LEXICON_MODEL = "icd10cm_lexicon"
# Asserts a text's spans as the entity step does (ConText), for coder mentions.
AssertSpans = Callable[[str, list[tuple[int, int]]], list[Assertion]]


def coder_mentions(
    text: str,
    entities: Sequence[ClinicalEntity],
    lexicon: Lexicon,
    *,
    min_documents: int,
    assert_spans: AssertSpans,
    model: str = LEXICON_MODEL,
) -> list[ClinicalEntity]:
    """The note's coder mentions, asserted by ``assert_spans``; none where
    ``min_documents`` is 0."""
    if not min_documents:
        return []
    spans = lexicon_spans(text, entities, lexicon, min_documents=min_documents)
    if not spans:
        return []
    return [
        ClinicalEntity(start, end, "PROBLEM", 0.0, model, assertion)
        for (start, end), assertion in zip(spans, assert_spans(text, spans), strict=True)
    ]


def phrase_spans(text: str, entities: Sequence[ClinicalEntity]) -> list[list[tuple[int, int]]]:
    """For each word, the phrases of one to ``MAX_WORDS`` words that start there,
    longest first: inside one stretch between breaks, starting and ending on a word
    that counts, and outside every PROBLEM entity."""
    taken = _problem_characters(text, entities)
    words = list(_WORD.finditer(text))
    # "fever and" would share the key of "fever": a phrase starts and ends on a
    # word that counts, and never spans a break between two words.
    counts = [fold(word.group()) not in STOP_WORDS for word in words]
    breaks_before = [0]  # breaks_before[i]: breaks between words 0..i
    for i in range(len(words) - 1):
        gap = _BREAK.search(text, words[i].end(), words[i + 1].start())
        breaks_before.append(breaks_before[-1] + bool(gap))
    found = []
    for index in range(len(words)):
        starting = []
        for size in range(min(MAX_WORDS, len(words) - index), 0, -1):
            last = index + size - 1
            if not (counts[index] and counts[last]) or breaks_before[last] > breaks_before[index]:
                continue
            start, end = words[index].start(), words[last].end()
            if taken.find(1, start, end) == -1:
                starting.append((start, end))
        found.append(starting)
    return found


def phrase_words(phrase: str) -> list[str]:
    """The words of a phrase as ``phrase_spans`` counts them."""
    return _WORD.findall(phrase)


def _problem_characters(text: str, entities: Sequence[ClinicalEntity]) -> bytearray:
    """1 where a PROBLEM entity covers the character: one C-speed search per phrase
    instead of a comparison with every entity."""
    taken = bytearray(len(text))
    for entity in entities:
        if entity.label == "PROBLEM":
            taken[entity.start : entity.end] = b"\x01" * (entity.end - entity.start)
    return taken


def lexicon_spans(
    text: str,
    entities: Sequence[ClinicalEntity],
    lexicon: Lexicon,
    *,
    min_documents: int,
) -> list[tuple[int, int]]:
    """Spans of known phrases outside PROBLEM entities, longest first at each word,
    never overlapping one another."""
    found: list[tuple[int, int]] = []
    covered_to = 0
    for starting in phrase_spans(text, entities):
        for start, end in starting:
            if start < covered_to:
                break
            key = surface_key(text[start:end])
            known = key and lexicon.surface_documents.get(key, 0) >= min_documents
            if known and lexicon.codes_for(key):
                found.append((start, end))
                covered_to = end
                break
    return found
