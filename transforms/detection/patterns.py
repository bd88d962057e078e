"""The ``presidio_patterns`` detector: presidio-analyzer pattern recognizers, offline.

Three things keep presidio offline and fail-closed here:

* The NLP engine is a blank spaCy pipeline (a tokenizer plus a lower-casing
  lemmatizer for presidio's context words), so no spaCy model is loaded or
  downloaded.
* The e-mail recognizer validates domains with a ``tldextract`` extractor that
  reads only the public-suffix snapshot bundled with tldextract; the default
  one fetches the list from the internet on first use.
* presidio logs and skips a pattern whose regex times out. Our recognizers
  raise instead, so the note is quarantined rather than released half-scanned.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import regex
import tldextract

from transforms.core.hidden_imports import ml_frameworks_hidden

with ml_frameworks_hidden():
    import spacy
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        EmailRecognizer,
        IpRecognizer,
        UrlRecognizer,
        UsSsnRecognizer,
    )

from schemas.phi_types import PRESIDIO_ENTITY_TO_SUBTYPE, coarse_type
from transforms.core.spans import Span
from transforms.detection.base import Detector, DetectorConfigError, register_detector
from transforms.detection.guards import is_vocabulary_word
from transforms.detection.pattern_rules import PatternRule, RuleSet, load_builtin_rules

# Seconds a single regex may run on one note before the note is failed.
REGEX_TIMEOUT_SECONDS = 30.0

_OFFLINE_TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

PRESIDIO_RECOGNIZERS = ("email", "url", "ip", "ssn")


class PatternTimeoutError(RuntimeError):
    """A regex ran past its time limit; the note must not be released."""


class TokenStarts(list):
    """Token start offsets that also carry token end offsets, for bisection."""

    ends: list[int]


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine on ``spacy.blank``: tokenizer only, nothing to download.

    presidio's context enhancer compares context words with lemmas; a blank
    pipeline has none, so lower-cased tokens stand in, computed in the same
    single pass over the tokens that collects their offsets.
    """

    def __init__(self, language: str = "en") -> None:
        super().__init__(models=[{"lang_code": language, "model_name": f"blank:{language}"}])
        self._language = language

    def load(self) -> None:
        self.nlp = {self._language: spacy.blank(self._language)}

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        starts = TokenStarts()
        ends, lemmas = [], []
        for token in doc:
            starts.append(token.idx)
            ends.append(token.idx + len(token))
            lemmas.append(token.lower_)
        starts.ends = ends
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=starts,
            lemmas=lemmas,
            nlp_engine=self,
            language=language,
            scores=[],
        )


class IndexedContextEnhancer(LemmaContextAwareEnhancer):
    """presidio's lemma context enhancer, finding a match's token by bisection.

    The stock enhancer walks every token of the note for every match, which is
    quadratic in note length and took most of the detector's time on long notes.
    """

    @staticmethod
    def _find_index_of_match_token(  # type: ignore[override]
        word: str, start: int, tokens: Any, tokens_indices: list[int]
    ) -> int:
        ends = tokens_indices.ends  # type: ignore[attr-defined]
        index = bisect.bisect_right(ends, start)
        if index >= len(ends):
            raise ValueError("a match lies beyond the note's last token")
        return index


class FailClosedPatterns:
    """Mixin for PatternRecognizer: the same matching loop, but a timeout raises."""

    patterns: list[Pattern]
    global_regex_flags: int
    supported_entities: list[str]
    name: str
    id: str

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        flags = regex_flags or self.global_regex_flags
        results: list[RecognizerResult] = []
        for pattern in self.patterns:
            if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
                pattern.compiled_with_flags = flags
                pattern.compiled_regex = regex.compile(pattern.regex, flags=flags)
            try:
                # A group named "phi" marks the PHI inside a match that also
                # consumed its label ("MRN: 123" -> "123"): label-first regexes
                # run much faster than variable-width look-behinds.
                has_group = "phi" in pattern.compiled_regex.groupindex
                for match in pattern.compiled_regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                    start, end = match.span("phi") if has_group else match.span()
                    if start < 0:
                        continue
                    result = self._result_for(text, start, end, pattern, flags)
                    if result is not None:
                        results.append(result)
            except TimeoutError:
                raise PatternTimeoutError(
                    f"recognizer {self.name}: pattern {pattern.name} timed out"
                ) from None
        return EntityRecognizer.remove_duplicates(results)

    def _result_for(
        self, text: str, start: int, end: int, pattern: Pattern, flags: int
    ) -> RecognizerResult | None:
        if start == end:
            return None
        matched = text[start:end]
        score = pattern.score
        validation = self.validate_result(matched)  # type: ignore[attr-defined]
        if validation is not None:
            score = EntityRecognizer.MAX_SCORE if validation else EntityRecognizer.MIN_SCORE
        if self.invalidate_result(matched):  # type: ignore[attr-defined]
            score = EntityRecognizer.MIN_SCORE
        if score <= EntityRecognizer.MIN_SCORE:
            return None
        # presidio's context enhancer records its reasoning on the explanation.
        explanation = self.build_regex_explanation(  # type: ignore[attr-defined]
            self.name, pattern.name, pattern.regex, score, validation, flags
        )
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


def _month_day_ok(matched: str) -> bool | None:
    """Reject impossible month/day pairs such as 2/30; ``None`` keeps the score."""
    numbers = [int(n) for n in re.findall(r"\d+", matched)]
    if len(numbers) >= 2 and len(str(numbers[0])) <= 2:
        month, day = numbers[0], numbers[1]
    elif len(numbers) >= 3:  # ISO: year, month, day
        month, day = numbers[1], numbers[2]
    else:
        return None
    try:
        dt.date(2000, month, day)  # a leap year, so 2/29 is allowed
    except ValueError:
        return False
    return None


# Unit and service abbreviations that follow "transferred to" and name no facility.
GENERIC_FACILITY_ABBREVIATIONS = frozenset(
    """ED ER EW ICU MICU SICU CCU CVICU CTICU NICU PICU TSICU NSICU OR PACU OSH SNF LTAC
    LTACH ALF ACU IR EP CATH GI OB PT OT ST PM AM US CT MRI ECHO EEG EKG ECG RN MD NP PA
    HOME REHAB FLOOR WARD UNIT CLINIC ICN SDU IMC PCU OBS ASC VNA HHA""".split()
)


def _facility_abbreviation_ok(matched: str) -> bool | None:
    return False if matched.strip().upper() in GENERIC_FACILITY_ABBREVIATIONS else None


def _uncommon_word_ok(matched: str) -> bool | None:
    """A facility written as one word must be a word no common-vocabulary list knows."""
    words = re.findall(r"[^\W\d_]+", matched)
    if not words or all(is_vocabulary_word(w) for w in words):
        return False
    return None


class ClinicalPatternRecognizer(FailClosedPatterns, PatternRecognizer):
    """A PatternRecognizer built from a ``PatternRule``, with optional validation."""

    def __init__(self, rule: PatternRule, *, min_age: int) -> None:
        flags = regex.DOTALL | regex.MULTILINE | (regex.IGNORECASE if rule.ignore_case else 0)
        super().__init__(
            supported_entity=rule.subtype,
            name=rule.name,
            patterns=[Pattern(p.name, p.regex, p.score) for p in rule.patterns],
            context=list(rule.context) or None,
            global_regex_flags=flags,
        )
        self._validator = rule.validator
        self._min_age = min_age

    def validate_result(self, pattern_text: str) -> bool | None:
        if self._validator == "month_day":
            return _month_day_ok(pattern_text)
        if self._validator == "facility_abbreviation":
            return _facility_abbreviation_ok(pattern_text)
        if self._validator == "uncommon_word":
            return _uncommon_word_ok(pattern_text)
        if self._validator == "age":
            digits = re.search(r"\d+", pattern_text)
            if digits is None:
                return False
            age = int(digits.group())
            return None if self._min_age <= age <= 125 else False
        return None


class OfflineEmailRecognizer(FailClosedPatterns, EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD_EXTRACTOR(pattern_text).fqdn != ""


# Top-level domains of the web; a country code alone ("clear.no", "po.in") is
# more often two words run together after a missing space than an address.
WEB_TLDS = frozenset(
    """com org net edu gov mil int info biz io app health care clinic hospital us uk""".split()
)
_SECOND_LEVEL = frozenset("""co com org net ac gov nhs edu""".split())


def url_is_plausible(matched: str) -> bool:
    """A URL needs a scheme, ``www.``, a path, or a web top-level domain on a real host."""
    text = matched.strip().lower()
    if re.match(r"[a-z][a-z0-9+.\-]*://", text) or text.startswith("www."):
        return True
    host, _, path = text.partition("/")
    if path:
        return True
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    if labels[-1] in WEB_TLDS:
        return len(labels[-2]) >= 2
    # A country code counts behind a known second level ("nhs.uk", "health.gov.au").
    return len(labels) >= 3 and labels[-2] in _SECOND_LEVEL


class FailClosedUrlRecognizer(FailClosedPatterns, UrlRecognizer):
    def invalidate_result(self, pattern_text: str) -> bool:
        return not url_is_plausible(pattern_text)


class FailClosedIpRecognizer(FailClosedPatterns, IpRecognizer):
    pass


class FailClosedSsnRecognizer(FailClosedPatterns, UsSsnRecognizer):
    pass


_PRESIDIO_CLASSES: dict[str, type[PatternRecognizer]] = {
    "email": OfflineEmailRecognizer,
    "url": FailClosedUrlRecognizer,
    "ip": FailClosedIpRecognizer,
    "ssn": FailClosedSsnRecognizer,
}


@register_detector("presidio_patterns")
class PresidioPatternDetector(Detector):
    """presidio-analyzer with deidcode's clinical pattern rules and presidio's own
    e-mail, URL, IP and SSN recognizers."""

    version = "1.0"

    def __init__(
        self,
        *,
        min_score: float = 0.5,
        min_age: int = 90,
        rules: Iterable[str] | None = None,
        disabled_rules: Iterable[str] = (),
        presidio_recognizers: Iterable[str] = PRESIDIO_RECOGNIZERS,
        extra_rules: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise DetectorConfigError("presidio_patterns.min_score must be between 0 and 1")
        if not 0 <= min_age <= 125:
            raise DetectorConfigError("presidio_patterns.min_age must be between 0 and 125")
        self.min_score = min_score
        self.min_age = min_age
        builtin = load_builtin_rules()
        extra = RuleSet.from_dict({"macros": dict(builtin.macros), "rules": list(extra_rules)})
        all_rules = {rule.name: rule for rule in (*builtin.rules, *extra.rules)}
        wanted = list(all_rules) if rules is None else list(rules)
        unknown = sorted((set(wanted) | set(disabled_rules)) - set(all_rules))
        if unknown:
            raise DetectorConfigError(f"presidio_patterns: unknown rule(s) {', '.join(unknown)}")
        self.rules = [all_rules[n] for n in wanted if n not in set(disabled_rules)]
        self.presidio_recognizers = list(presidio_recognizers)
        bad = sorted(set(self.presidio_recognizers) - set(_PRESIDIO_CLASSES))
        if bad:
            raise DetectorConfigError(
                f"presidio_patterns: unknown presidio recognizer(s) {', '.join(bad)}; "
                f"expected some of {', '.join(PRESIDIO_RECOGNIZERS)}"
            )
        for rule in self.rules:  # compile now so a bad hospital regex fails at startup
            for pattern in rule.patterns:
                try:
                    regex.compile(pattern.regex)
                except regex.error as exc:
                    raise DetectorConfigError(
                        f"presidio_patterns: rule {rule.name!r} pattern {pattern.name!r} "
                        f"does not compile: {exc}"
                    ) from None
        self._analyzer: AnalyzerEngine | None = None

    def load(self) -> None:
        registry = RecognizerRegistry(supported_languages=["en"])
        for rule in self.rules:
            registry.add_recognizer(ClinicalPatternRecognizer(rule, min_age=self.min_age))
        for key in self.presidio_recognizers:
            registry.add_recognizer(_PRESIDIO_CLASSES[key]())
        engine = BlankSpacyNlpEngine()
        engine.load()
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=engine,
            supported_languages=["en"],
            context_aware_enhancer=IndexedContextEnhancer(),
        )

    def detect(self, text: str) -> list[Span]:
        if self._analyzer is None:
            self.load()
        assert self._analyzer is not None
        results = self._analyzer.analyze(text=text, language="en", score_threshold=self.min_score)
        spans = []
        for result in results:
            subtype = PRESIDIO_ENTITY_TO_SUBTYPE.get(result.entity_type, result.entity_type)
            spans.append(
                Span(
                    start=result.start,
                    end=result.end,
                    phi_type=coarse_type(subtype),
                    subtype=subtype,
                    score=round(float(result.score), 4),
                    detector=self.name,
                )
            )
        return sorted(spans, key=lambda s: (s.start, s.end, s.subtype))
