"""presidio-analyzer internals that transforms/detection/patterns.py overrides.

Three overrides reach below presidio's public API (to fail closed on regex
timeouts, to find context tokens by bisection, and to run on a blank spaCy
pipeline). pyproject.toml pins presidio to the versions checked here; if an
upgrade changes what an override relies on, these tests say which one.
"""

from __future__ import annotations

import inspect

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from transforms.detection.patterns import (
    BlankSpacyNlpEngine,
    FailClosedPatterns,
    IndexedContextEnhancer,
)


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_pattern_recognizer_analyze_is_what_fail_closed_patterns_replaces():
    # FailClosedPatterns.analyze stands in for PatternRecognizer.analyze whole.
    assert parameters(PatternRecognizer.analyze) == parameters(FailClosedPatterns.analyze)
    assert parameters(PatternRecognizer.analyze) == [
        "self",
        "text",
        "entities",
        "nlp_artifacts",
        "regex_flags",
    ]
    # It caches compiled regexes on the Pattern, as presidio itself does.
    pattern = Pattern("p", r"\d+", 0.5)
    assert pattern.compiled_regex is None and pattern.compiled_with_flags is None
    # And it calls these, with these arguments.
    assert parameters(PatternRecognizer.build_regex_explanation) == [
        "recognizer_name",
        "pattern_name",
        "pattern",
        "original_score",
        "validation_result",
        "regex_flags",
    ]
    assert callable(EntityRecognizer.remove_duplicates)
    assert EntityRecognizer.MIN_SCORE == 0 and EntityRecognizer.MAX_SCORE == 1.0
    assert {"entity_type", "start", "end", "score", "analysis_explanation"} <= set(
        parameters(RecognizerResult.__init__)
    )
    assert RecognizerResult.RECOGNIZER_NAME_KEY and RecognizerResult.RECOGNIZER_IDENTIFIER_KEY


def test_context_enhancer_still_finds_match_tokens_through_the_overridden_method():
    original = inspect.getattr_static(LemmaContextAwareEnhancer, "_find_index_of_match_token")
    assert isinstance(original, staticmethod)
    assert parameters(original.__func__) == ["word", "start", "tokens", "tokens_indices"]
    assert parameters(IndexedContextEnhancer._find_index_of_match_token) == parameters(
        original.__func__
    )
    # The override only helps if presidio calls it by that name.
    assert "_find_index_of_match_token(" in inspect.getsource(LemmaContextAwareEnhancer)


def test_spacy_engine_builds_artifacts_through_the_overridden_method():
    original = SpacyNlpEngine._doc_to_nlp_artifact
    assert parameters(original) == ["self", "doc", "language"]
    assert parameters(BlankSpacyNlpEngine._doc_to_nlp_artifact) == parameters(original)
    assert "_doc_to_nlp_artifact(" in inspect.getsource(SpacyNlpEngine.process_text)
    assert parameters(NlpArtifacts.__init__) == [
        "self",
        "entities",
        "tokens",
        "tokens_indices",
        "lemmas",
        "nlp_engine",
        "language",
        "scores",
    ]
