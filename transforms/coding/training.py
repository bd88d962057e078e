"""Fitting the coder on documents coded as a whole (CodiEsp: codes, no spans).

Plain functions; ``bench/train_coder.py`` drives them. The lexicon of a
document's features never holds that document: features are computed out of
fold, so the reranker learns how far the lexicon carries to unseen notes. One
fold is kept apart as the validation fold: the threshold is chosen there,
never on the figures that are reported.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from transforms.coding.codeset import CodeSet
from transforms.coding.dense import DenseRetriever
from transforms.coding.features import (
    FeatureBuilder,
    Lexicon,
    problem_entities,
    surface_key,
)
from transforms.coding.gazetteer import AssertSpans, coder_mentions, phrase_spans, phrase_words
from transforms.coding.lexical import LexicalIndex, stems
from transforms.coding.model import NOTE_FEATURE_NAMES, CoderModel, note_features
from transforms.coding.pair_models import LogisticPairModel, PairModel, fit_logistic
from transforms.core.entities import ClinicalEntity
from transforms.core.text import fold as fold_case

FOLDS = 5
# The share of a surface's documents an unlinked code must be coded in.
MIN_UNLINKED_SHARE = 0.5
# A phrase outside every entity is linked to a code only by co-occurrence: in at
# least this many documents, and in MIN_UNLINKED_SHARE of the phrase's (chosen on
# the validation fold among 2 and 3 documents and shares of 0.3 to 0.6, in 1.3's
# first draft, whose phrase mentions also searched the titles).
MIN_PHRASE_CODE_DOCUMENTS = 3
MIN_PHRASE_DOCUMENTS = 3
# English closed-class words (pronouns, auxiliaries, prepositions, conjunctions,
# determiners, number words). A phrase key holds none: "admit was with" or "girl
# who" co-occur with codes in a corpus, but they name nothing a coder could check.
FUNCTION_WORDS = frozenset(
    """
    i me my we our you your he him his she her it its they them their this that these
    those who whom whose which what when where why how there here
    am is are was were be been being have has had having do does did done
    will would shall should can could may might must
    a an the and or but nor if then than so as at by for from in into of off on onto
    out over to up upon with within without about above after against along among
    around before behind below beneath beside between beyond during except inside
    near since through throughout till toward towards under until via
    not no yes all any both each either every few many more most much neither none
    other others same several some such own also again ever just only still too very
    once twice one two three four five six seven eight nine ten eleven twelve
    first second third
    """.split()
)
VALIDATION_FOLD = FOLDS - 1


@dataclass(frozen=True)
class CodedDocument:
    id: str
    text: str
    entities: tuple[ClinicalEntity, ...]
    gold: frozenset[str]


def fold_of(document_id: str) -> int:
    return int(hashlib.sha256(document_id.encode("utf-8")).hexdigest(), 16) % FOLDS


def build_lexicon(
    documents: Iterable[CodedDocument],
    builder: FeatureBuilder,
    code_set: CodeSet,
    *,
    phrase_allowed: Callable[[str], bool] | None = None,
) -> Lexicon:
    """Which codes the documents in which each surface occurs were coded with.

    A surface and a code are linked where the code's terms share a stem with the
    surface itself (E11.22's "kidney" for "chronic kidney disease"), or where, in
    two or more documents and in most of the surface's, they occur together (how
    "renoureteral crisis", a translation, learns N23, renal colic). Codes that
    merely co-occur with a surface (I10 beside diabetes) are not linked: they
    would be suggested with the wrong evidence.

    Phrases outside the entities (``phrase_spans``) are keys too, linked by
    co-occurrence alone, more strictly (``phrase_support``): the NER model never
    tags "smoker" as a problem, yet notes that say it are coded F17.210."""
    documents = list(documents)
    linked: dict[str, Counter[str]] = defaultdict(Counter)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    surface_documents: Counter[str] = Counter()
    code_documents: Counter[str] = Counter()
    for document in documents:
        gold = sorted(c for c in document.gold if c in code_set)
        code_documents.update(gold)
        keys_linked: dict[str, set[str]] = defaultdict(set)
        for index, entity in problem_entities(document.entities):
            mention = builder.mention(document.text, index, entity)
            key = surface_key(mention.surface)
            if not key:
                continue
            surface = set(stems(mention.surface))
            keys_linked[key] |= {c for c in gold if builder.terms.term_stems(c) & surface}
        for key, codes in keys_linked.items():
            surface_documents[key] += 1
            together[key].update(gold)
            linked[key].update(codes)
    support = {}
    for key, counts in together.items():
        documents_with_key = surface_documents[key]
        kept = {
            c: n
            for c, n in counts.items()
            if linked[key][c] or (n >= 2 and n / documents_with_key >= MIN_UNLINKED_SHARE)
        }
        if kept:
            support[key] = kept
    phrases, phrase_documents = phrase_support(
        documents,
        set(surface_documents),
        code_set,
        vocabulary=builder.index.vocabulary,
        phrase_allowed=phrase_allowed,
    )
    support.update(phrases)
    surface_documents.update({key: phrase_documents[key] for key in phrases})
    return Lexicon(
        support, dict(surface_documents), dict(code_documents), phrase_keys=frozenset(phrases)
    )


def phrase_support(
    documents: Sequence[CodedDocument],
    entity_keys: set[str],
    code_set: CodeSet,
    *,
    vocabulary: Container[str],
    phrase_allowed: Callable[[str], bool] | None = None,
) -> tuple[dict[str, dict[str, int]], Counter[str]]:
    """The lexicon's phrase keys (phrases outside the entities, with keys no entity
    has): each kept with the codes coded in at least MIN_PHRASE_CODE_DOCUMENTS of
    its documents and in MIN_UNLINKED_SHARE of them, where it is in at least
    MIN_PHRASE_DOCUMENTS; and how many documents hold each phrase.

    A phrase counts only if it is made of words that name part of some code
    (every stem in ``vocabulary``, the code set's) and of no FUNCTION_WORDS, and
    ``phrase_allowed`` accepts it: the trainer refuses phrases holding a ConText
    trigger, since "no fever" as one mention would hide its own negation."""
    together: dict[str, Counter[str]] = defaultdict(Counter)
    phrase_documents: Counter[str] = Counter()

    def may_be_a_key(phrase: str) -> bool:
        return (
            not any(fold_case(word) in FUNCTION_WORDS for word in phrase_words(phrase))
            and all(stem in vocabulary for stem in stems(phrase))
            and (phrase_allowed is None or phrase_allowed(phrase))
        )

    for document in documents:
        gold = sorted(c for c in document.gold if c in code_set)
        keys = {
            key
            for starting in phrase_spans(document.text, document.entities)
            for start, end in starting
            if (key := surface_key(phrase := document.text[start:end]))
            and key not in entity_keys
            and may_be_a_key(phrase)
        }
        for key in keys:
            phrase_documents[key] += 1
            together[key].update(gold)
    support = {}
    for key, counts in together.items():
        documents_with_key = phrase_documents[key]
        if documents_with_key < MIN_PHRASE_DOCUMENTS:
            continue
        kept = {
            c: n
            for c, n in counts.items()
            if n >= MIN_PHRASE_CODE_DOCUMENTS and n / documents_with_key >= MIN_UNLINKED_SHARE
        }
        if kept:
            support[key] = kept
    return support, phrase_documents


def pair_rows(
    documents: Sequence[CodedDocument], builder: FeatureBuilder
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Features, labels and (document, code) for every mention-candidate pair."""
    matrices, labels, keys = [], [], []
    for document in documents:
        mentions = [
            (builder.mention(document.text, index, entity), entity)
            for index, entity in problem_entities(document.entities)
        ]
        vectors = builder.embed([mention for mention, _ in mentions])
        for mention, entity in mentions:
            found = builder.candidates(mention, entity, vectors)
            matrices.append(found.matrix)
            labels.extend(code in document.gold for code in found.codes)
            keys.extend((document.id, code) for code in found.codes)
    if not matrices:
        return np.zeros((0, len(builder.feature_names)), dtype=np.float32), np.zeros(0), []
    x = np.vstack(matrices)
    return x, np.array(labels, dtype=np.float64), keys


def proposals_per_code(
    keys: list[tuple[str, str]], probabilities: np.ndarray
) -> dict[tuple[str, str], list[float]]:
    """Each (document, code)'s pair probabilities, one per proposing mention."""
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for key, p in zip(keys, probabilities, strict=True):
        found[key].append(float(p))
    return dict(found)


def note_rows(
    proposals: dict[tuple[str, str], list[float]],
    gold: dict[str, frozenset[str]],
    code_documents: Mapping[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(proposals)
    x = np.array(
        [note_features(proposals[k], math.log1p(code_documents.get(k[1], 0))) for k in keys]
    ).reshape(len(keys), len(NOTE_FEATURE_NAMES))
    return x, np.array([k[1] in gold[k[0]] for k in keys], dtype=np.float64)


def best_threshold(
    scored: dict[tuple[str, str], float], gold: dict[str, frozenset[str]]
) -> tuple[float, float]:
    """The note-score threshold with the best micro-F1, and that F1."""
    total_gold = sum(len(codes) for codes in gold.values())
    ranked = sorted(scored.items(), key=lambda item: -item[1])
    true_positive, best_f1, best_at = 0, 0.0, 1.0
    for predicted, ((document, code), score) in enumerate(ranked, start=1):
        true_positive += code in gold[document]
        f1 = 2 * true_positive / (predicted + total_gold)
        if f1 > best_f1:
            best_f1, best_at = f1, score
    return best_at, best_f1


def with_coder_mentions(
    documents: Sequence[CodedDocument],
    lexicon: Lexicon,
    *,
    min_documents: int,
    assert_spans: AssertSpans | None,
) -> list[CodedDocument]:
    """The documents with their coder mentions added to their entities, asserted."""
    if assert_spans is None:
        return list(documents)
    return [
        replace(
            document,
            entities=document.entities
            + tuple(
                coder_mentions(
                    document.text,
                    document.entities,
                    lexicon,
                    min_documents=min_documents,
                    assert_spans=assert_spans,
                )
            ),
        )
        for document in documents
    ]


@dataclass(frozen=True)
class TrainingResult:
    model: CoderModel
    validation_micro_f1: float
    pair_rows: int
    folds: dict[str, int]


def train(
    documents: Sequence[CodedDocument],
    *,
    index: LexicalIndex,
    dense: DenseRetriever | None,
    code_set: CodeSet,
    name: str,
    version: str,
    candidates_per_query: int = 10,
    dense_candidates_per_query: int = 0,
    dense_unlinked_only: bool = False,
    window_words: int = 4,
    lexicon_mention_documents: int = 3,
    assert_spans: AssertSpans | None = None,
    phrase_allowed: Callable[[str], bool] | None = None,
    provenance: dict | None = None,
    fit_pairs: Callable[[np.ndarray, np.ndarray], PairModel] = LogisticPairModel.fit,
) -> TrainingResult:
    """``assert_spans`` turns on coder mentions (``gazetteer``), asserted by it;
    ``phrase_allowed`` vets each phrase before it may become a phrase key;
    ``fit_pairs`` fits the pair model from rows and labels."""
    mention_documents = lexicon_mention_documents if assert_spans else 0

    def builder(lexicon: Lexicon) -> FeatureBuilder:
        return FeatureBuilder(
            index=index,
            code_set=code_set,
            lexicon=lexicon,
            dense=dense,
            candidates_per_query=candidates_per_query,
            dense_candidates_per_query=dense_candidates_per_query,
            window_words=window_words,
            dense_unlinked_only=dense_unlinked_only,
        )

    plain = builder(Lexicon())
    by_fold: dict[int, list[CodedDocument]] = defaultdict(list)
    for document in documents:
        by_fold[fold_of(document.id)].append(document)
    xs, ys, keys_by_fold, priors = {}, {}, {}, {}
    for fold in range(FOLDS):
        others = [d for f in range(FOLDS) if f != fold for d in by_fold[f]]
        lexicon = build_lexicon(others, plain, code_set, phrase_allowed=phrase_allowed)
        fold_documents = with_coder_mentions(
            by_fold[fold], lexicon, min_documents=mention_documents, assert_spans=assert_spans
        )
        x, y, keys = pair_rows(fold_documents, builder(lexicon))
        xs[fold], ys[fold], keys_by_fold[fold] = x, y, keys
        priors[fold] = lexicon.code_documents
    gold = {d.id: d.gold for d in documents}
    fit_folds = [f for f in range(FOLDS) if f != VALIDATION_FOLD]
    pair_model = fit_pairs(
        np.vstack([xs[f] for f in fit_folds]), np.concatenate([ys[f] for f in fit_folds])
    )
    draft = CoderModel(
        name=name,
        version=version,
        feature_names=plain.feature_names,
        pair_model=pair_model,
        note_mean=np.zeros(len(NOTE_FEATURE_NAMES), dtype=np.float32),
        note_scale=np.ones(len(NOTE_FEATURE_NAMES), dtype=np.float32),
        note_weights=np.zeros(len(NOTE_FEATURE_NAMES), dtype=np.float32),
        note_bias=0.0,
        threshold=0.5,
        lexicon=Lexicon(),
        candidates_per_query=candidates_per_query,
        # What the builder computes, so that the model's features match its rows
        # (a k without a retriever trains a lexical coder, recorded with k 0).
        dense_candidates_per_query=plain.dense_k if plain.uses_dense else 0,
        dense_unlinked_only=dense_unlinked_only,
        window_words=window_words,
        lexicon_mention_documents=mention_documents,
    )
    # The note-level model learns from proposals scored by a pair model that did not
    # see them (one per fit fold, fitted on the other fit folds): trees score their
    # own training rows too well for the note model to learn how far to trust them.
    note_x, note_y = [], []
    for fold in fit_folds:
        rest = [f for f in fit_folds if f != fold]
        unseen = fit_pairs(np.vstack([xs[f] for f in rest]), np.concatenate([ys[f] for f in rest]))
        found = proposals_per_code(keys_by_fold[fold], unseen.probability(xs[fold]))
        x, y = note_rows(found, gold, priors[fold])
        note_x.append(x)
        note_y.append(y)
    note_mean, note_scale, note_weights, note_bias = fit_logistic(
        np.vstack(note_x), np.concatenate(note_y)
    )
    noted = replace(
        draft,
        note_mean=note_mean,
        note_scale=note_scale,
        note_weights=note_weights,
        note_bias=note_bias,
    )
    # Only the threshold is chosen on the validation fold.
    validation = proposals_per_code(
        keys_by_fold[VALIDATION_FOLD], noted.pair_probability(xs[VALIDATION_FOLD])
    )
    prior = priors[VALIDATION_FOLD]
    threshold, validation_f1 = best_threshold(
        {k: noted.note_score(v, math.log1p(prior.get(k[1], 0))) for k, v in validation.items()},
        {d.id: d.gold for d in by_fold[VALIDATION_FOLD]},
    )
    final = replace(
        noted,
        threshold=threshold,
        lexicon=build_lexicon(documents, plain, code_set, phrase_allowed=phrase_allowed),
        provenance=provenance or {},
    )
    return TrainingResult(
        model=final,
        validation_micro_f1=validation_f1,
        pair_rows=int(sum(len(y) for y in ys.values())),
        folds={str(f): len(by_fold[f]) for f in range(FOLDS)},
    )
