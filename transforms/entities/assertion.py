"""Assertion of clinical entities by the ConText algorithm (Harkema et al. 2009).

Each entity gets five flags: ``negated``, ``uncertain``, ``historical``,
``hypothetical`` and ``family``, and the names of the rules that set them. Rules
and section headers are data (``data/context_rules.yaml`` and
``data/sections.yaml``, medspaCy's rule format); a hospital appends its own.

Per sentence (``sentences.split_sentences``): every trigger is found with one
compiled regex, longest literal first, so a pseudo-trigger ("no increase")
consumes the trigger inside it; a trigger's scope runs forward, backward or both
from it, to the sentence's edge, a terminator ("but") or ``max_scope`` words; an
entity inside the scope, and not overlapping the trigger, takes the trigger's
category. A section sets what it implies (family history: ``family``) for every
entity under it.

This is plain regex work over the sentence, so it costs little next to the
models: no spaCy pipeline is built.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from transforms.core.entities import Assertion
from transforms.entities.sentences import split_sentences

DATA_DIR = Path(__file__).with_name("data")
BUNDLED_RULES = DATA_DIR / "context_rules.yaml"
BUNDLED_SECTIONS = DATA_DIR / "sections.yaml"
MODIFIER_CATEGORIES = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
}
CATEGORIES = frozenset({*MODIFIER_CATEGORIES, "PSEUDO", "TERMINATE"})
DIRECTIONS = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL", "PSEUDO", "TERMINATE"})
FLAGS = tuple(MODIFIER_CATEGORIES.values())
_WORD = re.compile(r"\S+")
# How many notes' readings an asserter keeps: the entity step asserts a batch of
# notes, and the coder asserts its own mentions of the same notes soon after.
RECENT_NOTES = 256


class AssertionRuleError(ValueError):
    """A ConText rule or section rule is malformed; the message names it."""


@dataclass(frozen=True)
class ContextRule:
    """One trigger: a literal phrase (or a regex), its category and its direction."""

    literal: str
    category: str
    direction: str
    pattern: str | None = None
    max_scope: int | None = None  # in words; None: to the sentence's edge or a terminator
    allowed_types: tuple[str, ...] | None = None  # entity labels it may modify

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise AssertionRuleError(f"rule {self.literal!r}: unknown category {self.category!r}")
        if self.direction not in DIRECTIONS:
            raise AssertionRuleError(f"rule {self.literal!r}: unknown direction {self.direction!r}")
        if self.max_scope is not None and self.max_scope < 1:
            raise AssertionRuleError(f"rule {self.literal!r}: max_scope must be 1 or more")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContextRule:
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown or "literal" not in data:
            raise AssertionRuleError(f"rule {dict(data)!r}: needs literal; unknown {unknown}")
        allowed = data.get("allowed_types")
        return cls(
            literal=str(data["literal"]),
            category=str(data.get("category", "")).upper(),
            direction=str(data.get("direction", "")).upper(),
            pattern=data.get("pattern"),
            max_scope=data.get("max_scope"),
            allowed_types=tuple(allowed) if allowed else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def starts_a_word(self) -> bool:
        """A literal that must start at a word's start (its first character is alphanumeric)."""
        return self.pattern is None and self.literal[:1].isalnum()

    def regex(self, *, check_word_start: bool = True) -> str:
        """The rule's pattern; ``check_word_start=False`` leaves the word-start check of
        a ``starts_a_word`` literal to the caller."""
        if self.pattern:
            return self.pattern
        body = r"\s+".join(re.escape(part) for part in self.literal.split())
        start = r"(?<![\w/])" if self.starts_a_word and check_word_start else ""
        end = r"(?![\w/])" if self.literal[-1:].isalnum() else ""
        return f"{start}{body}{end}"

    @property
    def name(self) -> str:
        return f"{MODIFIER_CATEGORIES.get(self.category, self.category.lower())}:{self.literal}"


@dataclass(frozen=True)
class SectionRule:
    """A section header and the flags it sets for the entities under it."""

    name: str
    headers: tuple[str, ...]
    sets: Mapping[str, bool] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SectionRule:
        sets = dict(data.get("sets") or {})
        unknown = set(sets) - set(FLAGS)
        if unknown or not data.get("headers"):
            raise AssertionRuleError(
                f"section {data.get('name')!r}: needs headers; unknown flags {sorted(unknown)}"
            )
        return cls(str(data["name"]), tuple(str(h) for h in data["headers"]), sets)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "headers": list(self.headers), "sets": dict(self.sets)}


@dataclass(frozen=True)
class _Trigger:
    rule: ContextRule
    start: int
    end: int


@dataclass(frozen=True)
class _SentenceTriggers:
    modifiers: tuple[_Trigger, ...]
    terminators: tuple[_Trigger, ...]


@dataclass
class _NoteReading:
    """What ConText reads of a note whichever entities it asserts: its sections,
    its sentences, and each sentence's triggers as they are first needed."""

    sections: list[tuple[int, SectionRule]]
    sentences: list[tuple[int, int]]
    sentence_starts: list[int]
    triggers: dict[tuple[int, int], _SentenceTriggers] = field(default_factory=dict)


class ContextAsserter:
    """ConText over a note: ``assert_entities(text, entities) -> [Assertion]``.

    The last ``RECENT_NOTES`` notes' readings are kept: the coder asserts its
    mentions of a note after the entity step has asserted the note's entities, and
    half of their sentences are the same (ACI-Bench), so the triggers are found once.
    """

    def __init__(self, rules: Sequence[ContextRule], sections: Sequence[SectionRule]) -> None:
        self.rules = tuple(rules)
        self.sections = tuple(sections)
        try:
            self._triggers = re.compile(_trigger_pattern(self.rules), re.IGNORECASE)
        except re.error as exc:
            raise AssertionRuleError(f"a rule's pattern does not compile: {exc}") from None
        headers = sorted(
            ((h, s) for s in self.sections for h in s.headers), key=lambda hs: -len(hs[0])
        )
        self._readings: OrderedDict[str, _NoteReading] = OrderedDict()
        self._readings_lock = threading.Lock()
        self._section_of = {h.lower(): s for h, s in headers}
        self._headers = re.compile(
            r"^[ \t]*(?P<h>" + "|".join(re.escape(h) for h, _ in headers) + r")[ \t]*(?::|$)",
            re.IGNORECASE | re.MULTILINE,
        )

    @classmethod
    def from_files(cls, rule_files: Iterable[Path], section_files: Iterable[Path]):
        rules = [r for path in rule_files for r in load_rules(path)]
        sections = [s for path in section_files for s in load_sections(path)]
        return cls(rules, sections)

    def _sections(self, text: str) -> list[tuple[int, SectionRule]]:
        return [
            (m.start(), self._section_of[m.group("h").lower()])
            for m in self._headers.finditer(text)
        ]

    def _reading(self, text: str) -> _NoteReading:
        with self._readings_lock:
            reading = self._readings.get(text)
            if reading is not None:
                self._readings.move_to_end(text)
                return reading
        sentences = split_sentences(text)
        reading = _NoteReading(self._sections(text), sentences, [a for a, _ in sentences])
        with self._readings_lock:
            self._readings[text] = reading
            if len(self._readings) > RECENT_NOTES:
                self._readings.popitem(last=False)
        return reading

    def _sentence_triggers(self, text: str, start: int, end: int) -> _SentenceTriggers:
        """The sentence's modifiers and terminators. Matches never overlap and the longest
        literal wins at each position, so a pseudo-trigger ("no increase") has already
        consumed the trigger inside it; it is then dropped, modifying nothing."""
        modifiers, terminators = [], []
        for match in self._triggers.finditer(text, start, end):
            # Every alternative is the named group r<index>, and the outermost closes last.
            rule = self.rules[int(str(match.lastgroup)[1:])]
            trigger = _Trigger(rule, match.start(), match.end())
            if rule.category == "TERMINATE":
                terminators.append(trigger)
            elif rule.category != "PSEUDO":
                modifiers.append(trigger)
        return _SentenceTriggers(tuple(modifiers), tuple(terminators))

    def has_trigger(self, text: str) -> bool:
        """Whether any rule's trigger (pseudo-triggers and terminators included) is in
        ``text``."""
        return self._triggers.search(text) is not None

    def assert_problems(self, text: str, spans: Sequence[tuple[int, int]]) -> list[Assertion]:
        """``assert_entities`` for spans that are all PROBLEMs (the coder's mentions)."""
        return self.assert_entities(text, [(start, end, "PROBLEM") for start, end in spans])

    def assert_entities(
        self, text: str, entities: Sequence[tuple[int, int, str]]
    ) -> list[Assertion]:
        """One Assertion per ``(start, end, label)`` entity, in the order given."""
        reading = self._reading(text)
        sections, sentences = reading.sections, reading.sentences
        triggers = reading.triggers
        results = []
        for start, end, label in entities:
            flags = dict.fromkeys(FLAGS, False)
            fired: list[str] = []
            section = None
            for header_start, rule in sections:
                if header_start <= start:
                    section = rule
            if section is not None:
                for flag, value in section.sets.items():
                    if value:
                        flags[flag] = True
                        fired.append(f"section:{section.name}")
            index = bisect.bisect_right(reading.sentence_starts, start) - 1
            sentence = sentences[index] if index >= 0 else (start, end)
            if not sentence[0] <= start < sentence[1]:
                sentence = (start, end)  # between sentences (whitespace): no trigger reaches
            if sentence not in triggers:
                triggers[sentence] = self._sentence_triggers(text, *sentence)
            for trigger in self._in_scope(text, sentence, triggers[sentence], start, end, label):
                flags[MODIFIER_CATEGORIES[trigger.rule.category]] = True
                fired.append(trigger.rule.name)
            results.append(
                Assertion(
                    **flags,
                    section=section.name if section else None,
                    rules=tuple(dict.fromkeys(fired)),
                )
            )
        return results

    def _in_scope(
        self,
        text: str,
        sentence: tuple[int, int],
        triggers: _SentenceTriggers,
        start: int,
        end: int,
        label: str,
    ) -> list[_Trigger]:
        hits = []
        for trigger in triggers.modifiers:
            rule = trigger.rule
            if trigger.start < end and start < trigger.end:
                continue  # the trigger is part of the entity
            if rule.allowed_types is not None and label not in rule.allowed_types:
                continue
            if start >= trigger.end and rule.direction in ("FORWARD", "BIDIRECTIONAL"):
                limit = min(
                    [t.start for t in triggers.terminators if t.start >= trigger.end]
                    + [sentence[1]]
                )
                if end <= limit and _within(rule, text, trigger.end, start):
                    hits.append(trigger)
            elif end <= trigger.start and rule.direction in ("BACKWARD", "BIDIRECTIONAL"):
                limit = max(
                    [t.end for t in triggers.terminators if t.end <= trigger.start] + [sentence[0]]
                )
                if start >= limit and _within(rule, text, end, trigger.start):
                    hits.append(trigger)
        return hits


def _trigger_pattern(rules: Sequence[ContextRule]) -> str:
    """One alternation of every rule, each the named group ``r<index>``.

    Longest literals first, so "no evidence of" wins over "no". The literals
    that start a word share one word-start check in front of their
    alternation: the regex engine then rejects a position inside a word once,
    instead of once per rule, which is most of what assertion costs."""
    ordered = sorted(range(len(rules)), key=lambda i: -len(rules[i].literal))
    at_word_start = [i for i in ordered if rules[i].starts_a_word]
    alternatives = [f"(?P<r{i}>{rules[i].regex()})" for i in ordered if i not in at_word_start]
    if at_word_start:
        grouped = "|".join(
            f"(?P<r{i}>{rules[i].regex(check_word_start=False)})" for i in at_word_start
        )
        alternatives.insert(0, rf"(?<![\w/])(?:{grouped})")
    return "|".join(alternatives)


def _within(rule: ContextRule, text: str, start: int, end: int) -> bool:
    """Whether the words between a trigger and an entity fit the rule's window."""
    return rule.max_scope is None or len(_WORD.findall(text, start, end)) < rule.max_scope


def load_rules(path: Path) -> list[ContextRule]:
    return _parse_items(path, "context_rules", ContextRule.from_dict)


def load_sections(path: Path) -> list[SectionRule]:
    return _parse_items(path, "sections", SectionRule.from_dict)


def _parse_items(path: Path, key: str, parse: Any) -> list[Any]:
    """Each item of the file's list, parsed; an error names the file and item number."""
    items = []
    for number, item in enumerate(_load_yaml(path, key), start=1):
        if not isinstance(item, Mapping):
            raise AssertionRuleError(f"{path}: {key} item {number} is not a mapping")
        try:
            items.append(parse(item))
        except AssertionRuleError as exc:
            raise AssertionRuleError(f"{path}: {key} item {number}: {exc}") from None
    return items


def _load_yaml(path: Path, key: str) -> list[Mapping[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AssertionRuleError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise AssertionRuleError(f"{path}: expected a mapping with a list under {key!r}")
    return data[key]


@lru_cache(maxsize=1)
def default_asserter() -> ContextAsserter:
    """The bundled rules and sections."""
    return ContextAsserter.from_files([BUNDLED_RULES], [BUNDLED_SECTIONS])
