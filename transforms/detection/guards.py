"""Precision guards: span filters that run on every detector's raw spans before they merge.

A filter may only remove spans; it never adds or widens one. Two built-ins:

* ``clinical_values`` keeps clinical values out of every span: vital signs,
  murmur and strength grades, scores, doses, lab values, ratios, durations and
  relative days, emergency numbers, and section headers. A span is dropped when
  every word it covers lies inside such a value.
* ``model_shape_vocabulary`` judges spans that only a model found (no other
  detector overlaps them). A DATE, CONTACT, ID or AGE must have the shape of
  one; a NAME, LOCATION, PROFESSION or OTHER made only of common clinical or
  English words, and of no name, is dropped unless the model is very sure or the
  note's own capitalisation marks a word as a proper noun.

The README's "Precision guards" section gives the rules and what they cost in
recall; ``deidcode eval phi`` measures both.
"""

from __future__ import annotations

import bisect
import gzip
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

from transforms.core.registry import name_registrar
from transforms.core.spans import Span
from transforms.core.text import fold
from transforms.detection.base import DetectorConfigError
from transforms.detection.clinical_values import protected_regions


class SpanFilter(ABC):
    """Removes spans that are not PHI. Cheap to construct; ``load`` runs once per worker."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load data files. Called once per worker before the first ``filter``."""

    @abstractmethod
    def filter(self, text: str, spans: Sequence[Span]) -> list[Span]:
        """The spans to keep, a subset of ``spans``."""

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


FILTER_REGISTRY: dict[str, type[SpanFilter]] = {}
register_filter = name_registrar(FILTER_REGISTRY, "span filter")


def build_filters(specs: Iterable[Mapping[str, Any]]) -> list[SpanFilter]:
    """Build the enabled filters from config entries ``{name, enabled, options}``."""
    filters = []
    for spec in specs:
        if not spec.get("enabled", True):
            continue
        name = spec["name"]
        if name not in FILTER_REGISTRY:
            raise DetectorConfigError(
                f"unknown span filter {name!r}; known: {', '.join(sorted(FILTER_REGISTRY))}"
            )
        try:
            filters.append(FILTER_REGISTRY[name](**dict(spec.get("options") or {})))
        except TypeError as exc:
            raise DetectorConfigError(f"span filter {name!r}: invalid options ({exc})") from None
    return filters


_WORD = re.compile(r"\w+")


def _words(text: str, start: int, end: int) -> list[re.Match[str]]:
    return list(_WORD.finditer(text, start, end))


@register_filter("clinical_values")
class ClinicalValueFilter(SpanFilter):
    """Drop any span whose every word lies inside a clinical value or section header."""

    def filter(self, text: str, spans: Sequence[Span]) -> list[Span]:
        if not spans:
            return []
        regions = protected_regions(text, is_header_word=is_vocabulary_word)
        if not regions:
            return list(spans)
        starts = [start for start, _ in regions]

        def protected(position_start: int, position_end: int) -> bool:
            index = bisect.bisect_right(starts, position_start) - 1
            return index >= 0 and regions[index][1] >= position_end

        kept = []
        for span in spans:
            words = _words(text, span.start, span.end)
            if words and all(protected(w.start(), w.end()) for w in words):
                continue
            kept.append(span)
        return kept


@dataclass(frozen=True)
class Vocabulary:
    """Folded word sets of the guard (see ``transforms/detection/data``)."""

    english: frozenset[str]  # common English, no name or place
    english_name_words: frozenset[str]  # common English that is also a name or place
    clinical: frozenset[str]  # clinical words, shorthand, function words, kinds of place

    def is_common(self, word: str) -> bool:
        return word in self.english or word in self.clinical


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The guard's word lists, read once per process."""
    data = resources.files("transforms.detection.data")

    def read(name: str) -> frozenset[str]:
        return frozenset(gzip.decompress(data.joinpath(name).read_bytes()).decode().split())

    terms = [
        word
        for line in data.joinpath("clinical_terms.txt").read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
        for word in line.split()
    ]
    return Vocabulary(
        english=read("english_vocabulary.txt.gz"),
        english_name_words=read("english_name_words.txt.gz"),
        clinical=read("clinical_vocabulary.txt.gz") | frozenset(terms) | GENERIC_PLACE_WORDS,
    )


def is_vocabulary_word(word: str) -> bool:
    """Whether a word is common English or clinical vocabulary (names and places excluded)."""
    return vocabulary().is_common(fold(word))


# Words that name a kind of place, not a place: a span made only of these (and
# common words) names no facility, whatever its capitalisation ("the Emergency
# Department", "Internal Medicine").
DEPARTMENT_WORDS = frozenset(
    """department dept unit units service services emergency room rooms ward wards floor
    medicine internal surgery surgical medical outpatient outpatients inpatient intensive
    care icu nursing health rehabilitation rehab office laboratory lab radiology cardiology
    oncology pediatrics pediatric neurology psychiatry obstetrics gynecology urology
    nephrology pulmonary our of the and for at in on a an to with""".split()
)
# Heads of a facility's name. Capitalised beside another capitalised word that is
# no department word, they make a proper name: "General Hospital", "Children's
# Clinic", "University Medical Center".
FACILITY_HEADS = frozenset(
    """hospital hospitals clinic clinics center centre centers infirmary institute
    institution hospice sanatorium practice facility home""".split()
)
GENERIC_PLACE_WORDS = DEPARTMENT_WORDS | FACILITY_HEADS | frozenset({"general", "university"})
# Full month names date a span alone ("in March"); abbreviations only beside a
# number ("Oct 3", "OCT 2021"), since "OCT" alone is a scan and "Mar" a mark.
# English, Spanish, Portuguese, French, Italian and German: the model sees all.
_MONTH_NAMES = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro"
    r"|novembro|dezembro|janvier|février|mars|avril|mai|juin|juillet|août|septembre"
    r"|octobre|novembre|décembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre"
    r"|ottobre|dicembre|januar|februar|märz|juni|juli|oktober|dezember"
)
_MONTH_ABBREVIATIONS = r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
_DAYS = (
    r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?"
)
_DATE_SHAPE = re.compile(
    rf"\b(?:{_MONTH_NAMES}|{_DAYS}|christmas|thanksgiving|easter|new\s+year|halloween|hanukkah"
    r"|(?:labou?r|memorial|independence|veterans|valentine'?s?|mother'?s|father'?s)\s+day)\b"
    rf"|\b(?:{_MONTH_ABBREVIATIONS})\.?\s*\d|\d\s*(?:{_MONTH_ABBREVIATIONS})\b"
    r"|\d{1,4}\s*[/.\-]\s*\d{1,2}"
    r"|\b(?:19|20)\d{2}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)\b",
    re.IGNORECASE,
)
_URL_SHAPE = re.compile(r"www\.|https?://|\.(?:com|org|net|edu|gov|io|us)\b", re.IGNORECASE)
_AGE_WORDS = re.compile(r"ninety|hundred", re.IGNORECASE)
_SENTENCE_END = frozenset(".!?:;\n\r\t•-*#>")
# Word endings of clinical terms that no name has: "nephrectomy", "pollakiuria". Not
# Lithuanian and Latvian surnames' "-aitis", "-ytis", "-ītis" (Kalvaitis, Prieditis),
# so "-itis" needs ten letters; nor a short "-emia" (Eufemia, Ieremia). A test checks
# every first name and surname of every Faker locale.
_CLINICAL_ENDING = re.compile(
    r"(?:ectomy|ectomies|otomy|ostomy|plasty|scopy|graphy|gram|(?<=[a-z]{6})(?<![ay])itis|osis|oses"
    r"|(?<=[a-z]{5})a?emia|uria"
    r"|pathy|algia|megaly|cele|iasis|plasia|trophy|rrhea|rrhoea|rrhage|penia|cytosis|oma|omas"
    r"|genic|lytic|ectasis|ptosis|stenosis|sclerosis|malacia|lithiasis|centesis|rrhaphy|pexy"
    r"|desis|lysis|ptysis|plegia|paresis|phagia|phasia|pnoea|pnea|opsias?|opia|cytes?|blasts?"
    r"|philia|phobia|trophic|plastic|iform|ically|ously)$"
)
# Endings of drug names from the WHO's INN stems, which drug names are built from and
# personal names do not end in: "canakinumab", "dasatinib", "metoprolol", "riluzole".
_DRUG_STEM = re.compile(
    r"(?:mab|tinib|ciclib|parib|rafenib|pitant|azole|zole|lidomide|semide|thiazide|olol|pril"
    r"|sartan|statin|dipine|cillin|mycin|micin|cycline|oxacin|navir|previr|buvir|ciclovir"
    r"|clovir|tidine|setron|triptan|gliptin|gliflozin|glitazone|lukast|profen|fenac|parin"
    r"|xaban|gatran|platin|rubicin|taxel|trexate|tecan|relin|azepam|zolam|barbital|[aen][ln]afil"
    r"|terol|tropium|dronate|oxetine|pramine|triptyline|peridol|apine|morphone|codone"
    r"|fentanil|fungin|kinra|leukin|poetin|grastim|ercept)$"
)


def has_type_shape(surface: str, phi_type: str, *, min_age: int) -> bool:
    """Whether ``surface`` can be a value of ``phi_type`` at all (types with a shape)."""
    digits = sum(ch.isdigit() for ch in surface)
    if phi_type == "DATE":
        return _DATE_SHAPE.search(surface) is not None
    if phi_type == "CONTACT":
        return digits >= 7 or "@" in surface or _URL_SHAPE.search(surface) is not None
    if phi_type == "ID":
        alnum = sum(ch.isalnum() for ch in surface)
        return digits >= 3 and alnum >= 4
    if phi_type == "AGE":
        numbers = [int(n) for n in re.findall(r"\d{1,3}", surface)]
        return any(min_age <= n <= 125 for n in numbers) or bool(_AGE_WORDS.search(surface))
    return True


def _names_a_facility(words: Sequence[str]) -> bool:
    """A capitalised facility head with another capitalised, non-department word."""
    capitalised = [fold(w) for w in words if w[:1].isupper()]
    return any(w in FACILITY_HEADS for w in capitalised) and any(
        w not in FACILITY_HEADS and w not in DEPARTMENT_WORDS for w in capitalised
    )


def _adjacent(text: str, a: Span, b: Span) -> bool:
    """Whether ``a`` and ``b`` touch, or only spaces and light punctuation lie between."""
    gap = text[a.end : b.start] if a.end <= b.start else text[b.end : a.start]
    return len(gap) <= 2 and all(ch in " ,.-'" for ch in gap)


def _case_is_informative(text: str, start: int, end: int) -> bool:
    """Whether capitals on the span's line mean anything: not in an ALL-CAPS or
    all-lowercase line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    letters = [ch for ch in line if ch.isalpha()]
    if not letters:
        return False
    upper = sum(ch.isupper() for ch in letters) / len(letters)
    return 0.0 < upper < 0.6


def _sentence_initial(text: str, position: int) -> bool:
    index = position - 1
    while index >= 0 and text[index] in " \"'(":
        index -= 1
    if index < 0:
        return True
    if text[index] in _SENTENCE_END:
        return True
    # A list marker such as "1." or "a)".
    return text[index] == ")" or (text[index] == "." and index > 0 and text[index - 1].isdigit())


@register_filter("model_shape_vocabulary")
class ModelSpanFilter(SpanFilter):
    """Shape and vocabulary checks for spans only a model found.

    ``detectors``: the detector names whose spans are judged (others pass);
    ``keep_score``: a model score at or above which a vocabulary-only span is
    kept all the same; ``min_age``: the youngest age that is PHI (Safe Harbor: 90).
    """

    def __init__(
        self,
        *,
        detectors: Iterable[str] = ("onnx_ner",),
        # Chosen on validation data by bench/calibrate_guards.py (bench/guard_calibration.md).
        keep_score: float = 0.99,
        min_age: int = 90,
    ) -> None:
        if not 0.0 <= keep_score <= 1.0:
            raise DetectorConfigError("model_shape_vocabulary.keep_score must be in [0, 1]")
        self.detectors = frozenset(detectors)
        self.keep_score = keep_score
        self.min_age = min_age

    def load(self) -> None:
        vocabulary()

    def _judged(self, span: Span) -> bool:
        return span.detector.split(":", 1)[0] in self.detectors

    def filter(self, text: str, spans: Sequence[Span]) -> list[Span]:
        others = [s for s in spans if not self._judged(s)]
        plausible = [
            not self._judged(span)
            or any(span.overlaps(other) for other in others)
            or self._plausible(text, span)
            for span in spans
        ]
        kept = [span for span, ok in zip(spans, plausible, strict=True) if ok]
        # A piece of a longer value ("south" of "south Brittneytown", "REHAB" of
        # "FROST REHAB") stays with its neighbour: dropping it would leave half a name.
        return [
            span
            for span, ok in zip(spans, plausible, strict=True)
            if ok or any(_adjacent(text, span, other) for other in kept)
        ]

    def _plausible(self, text: str, span: Span) -> bool:
        surface = text[span.start : span.end]
        if not has_type_shape(surface, span.phi_type, min_age=self.min_age):
            return False
        if span.phi_type in ("DATE", "CONTACT", "ID", "AGE"):
            return True
        words = [w for w in _words(text, span.start, span.end) if not w.group().isdigit()]
        if not words:
            # Digits alone: a street number or ZIP may be a place; nothing else is.
            return span.phi_type == "LOCATION" and sum(ch.isdigit() for ch in surface) >= 3
        if span.score >= self.keep_score:
            return True
        words_known = vocabulary()
        informative = _case_is_informative(text, span.start, span.end)
        if informative and _names_a_facility([w.group() for w in words]):
            return True
        for word in words:
            surface_word = word.group()
            folded = fold(surface_word)
            if len(folded) == 1:
                # An initial ("J. Smith") has its period; "type B" and "vitamin C" do not.
                if surface_word.isupper() and text[word.end() : word.end() + 1] == ".":
                    return True
                continue
            if len(folded) >= 7 and (_CLINICAL_ENDING.search(folded) or _DRUG_STEM.search(folded)):
                continue
            if folded in words_known.clinical:
                continue
            if informative and surface_word.islower() and folded in words_known.english_name_words:
                continue  # "good", "general" in lower case, where a name would be capitalised
            if folded not in words_known.english:
                return True  # a word no list knows: maybe a name
            if (
                informative
                and surface_word[0].isupper()
                and not _sentence_initial(text, word.start())
                and folded not in GENERIC_PLACE_WORDS
            ):
                return True  # a capitalised common word mid-sentence: maybe a name
        return False
