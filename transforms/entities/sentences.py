"""Sentence boundaries for clinical text, as (start, end) offsets into the note.

Clinical notes break the rules prose splitters rely on: lines wrap mid-sentence,
lists have no final periods, headers end in a colon, abbreviations ("Dr.",
"b.i.d.", "pt.") carry periods, and periods often have no space after them.
The rules, in order:
- a blank line, a bullet or numbered item, and a header line end a sentence;
- a line break ends one unless the next line continues it (starts in lower case
  and the line before ends without punctuation);
- ``.``, ``!``, ``?`` and ``;`` end one when followed by a space or a capital,
  except after a known abbreviation, an initial or inside a number ("2.5").
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """dr mr mrs ms prof st vs no pt pts approx appt dept hx sx dx tx rx fx yo y.o e.g i.e
    etc b.i.d t.i.d q.i.d q.d p.o p.r n.p.o a.m p.m q.h.s h.s fig inc jr sr""".split()
)
_BREAK = re.compile(r"[.!?;]+(?=\s|[A-Z]|$)")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_HEADER_LINE = re.compile(r"^[ \t]*[A-Za-z][A-Za-z /&-]{1,40}:[ \t]*", re.MULTILINE)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


# How far back the word before a period is looked for: abbreviations and
# initials are short, and a search from the note's start would cost the length
# of the note at every period.
_WORD_WINDOW = 40


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    before = _WORD_BEFORE.search(text, max(0, match.start() - _WORD_WINDOW), match.start())
    if match.group() == "." and before is not None:
        word = before.group(1).lower().rstrip(".")
        if word in ABBREVIATIONS or len(word) == 1:
            return False  # "Dr. Roe", "b.i.d. with food", the initial in "J. Smith"
    after = text[match.end() : match.end() + 1]
    return not (match.group() == "." and after.isdigit())


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Lines joined where a wrapped sentence continues on the next line."""
    spans: list[tuple[int, int]] = []
    position = 0
    for line in text.split("\n"):
        start, end = position, position + len(line)
        position = end + 1
        if not line.strip():
            spans.append((start, start))  # a blank line: always a boundary
            continue
        previous = spans[-1] if spans else None
        continues = (
            previous is not None
            and previous[1] > previous[0]
            and line.lstrip()[:1].islower()
            and not _ITEM.match(line)
            and text[previous[1] - 1] not in ".!?;:"
            and not _is_header_only(text[previous[0] : previous[1]])
        )
        if continues:
            spans[-1] = (previous[0], end)
        else:
            spans.append((start, end))
    return [(a, b) for a, b in spans if b > a]


def _is_header_only(line: str) -> bool:
    header = _HEADER_LINE.match(line)
    return header is not None and not line[header.end() :].strip()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) spans of the sentences of ``text``."""
    sentences: list[tuple[int, int]] = []
    for line_start, line_end in _line_spans(text):
        header = _HEADER_LINE.match(text, line_start, line_end)
        cursor = line_start
        if header is not None and header.end() < line_end:
            sentences.append((line_start, header.end()))  # "Family history:" is its own
            cursor = header.end()
        for match in _BREAK.finditer(text, cursor, line_end):
            if _ends_sentence(text, match):
                sentences.append((cursor, match.end()))
                cursor = match.end()
        if cursor < line_end:
            sentences.append((cursor, line_end))
    return [_strip(text, a, b) for a, b in sentences if text[a:b].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
