"""Suggest ICD-10-CM codes for a note from its asserted PROBLEM entities.

For each entity the assertion policy allows: lexical, dense and lexicon
candidates, scored by the reranker; an injury code takes the 7th character its
context asks for, and a historical mention becomes its history code. A note's code
keeps its best mention's score, calibrated to a note-level probability, and the
codes at or above the threshold are ranked; an unspecified code yields to a
more specific one of its category. Each suggestion carries its evidence: the
entity span first, then the words that give it specificity, then any other
mention of the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from transforms.coding.codeset import CodeSet, bundled_code_set
from transforms.coding.dense import DenseRetriever, bundled_dense_retriever
from transforms.coding.features import (
    FEATURE_NAMES,
    FeatureBuilder,
    Mention,
    problem_entities,
)
from transforms.coding.gazetteer import LEXICON_MODEL, AssertSpans, coder_mentions
from transforms.coding.lexical import LexicalIndex, bundled_lexical_index
from transforms.coding.model import DEFAULT_CODER, CoderModel, bundled_coder_model
from transforms.coding.rules import (
    AssertionPolicy,
    Decision,
    HistoryCodes,
    drop_unspecified_siblings,
    encounter_character,
    with_seventh_character,
)
from transforms.core.entities import ClinicalEntity

SURFACE_COVERAGE = FEATURE_NAMES.index("surface_coverage")
SUGGESTED = "suggested"
CANDIDATE = "candidate"
# Another mention is evidence for a code where it scores at least this share of the best.
SUPPORTING_SHARE = 0.5


@dataclass(frozen=True)
class CodingSettings:
    policy: AssertionPolicy = field(default_factory=AssertionPolicy)
    model: str = DEFAULT_CODER  # a bundled coder (model.MODEL_FILES)
    threshold: float | None = None  # None: the model's, chosen on its validation fold
    max_codes_per_note: int = 30
    # Codes under the threshold, listed after the suggestions for a coder to
    # consider (and for ranking metrics such as MAP); 0 lists none.
    max_candidates_per_note: int = 20
    candidate_floor: float = 0.02


@dataclass(frozen=True)
class SuggestedCode:
    code: str
    description: str
    rank: int
    score: float
    # The mention that scored best: an index into the entities, then the coder mentions.
    entity_index: int
    evidence: tuple[tuple[int, int], ...]  # original-text spans, the entity's first
    status: str  # SUGGESTED at or above the threshold, else CANDIDATE


@dataclass
class _Proposals:
    """Every mention that proposed one code, and the one its evidence starts from."""

    mention: Mention
    source_code: str  # the candidate before history and 7th-character rules
    # The evidence is a mention whose own words name the code, if any does, and
    # the likeliest of those: "Roe syndrome and essential hypertension" gives I10
    # through both windows, but only "essential hypertension" names it.
    attribution: tuple[bool, float] = (False, 0.0)
    # Every proposing mention with its pair probability, the best included.
    proposed_by: list[tuple[Mention, float]] = field(default_factory=list)

    @property
    def probabilities(self) -> list[float]:
        return [p for _, p in self.proposed_by]

    def supporting(self) -> list[Mention]:
        """Other mentions that name the code nearly as well as the best one: the
        rest proposed it only as a long shot, and would be misleading evidence."""
        floor = SUPPORTING_SHARE * max(self.probabilities)
        seen = {self.mention.entity_index}
        found = []
        for mention, p in self.proposed_by:
            if p >= floor and mention.entity_index not in seen:
                seen.add(mention.entity_index)
                found.append(mention)
        return found


class CodeSuggester:
    def __init__(
        self,
        *,
        model: CoderModel,
        code_set: CodeSet,
        index: LexicalIndex,
        dense: DenseRetriever | None,
        history: HistoryCodes,
        settings: CodingSettings,
    ) -> None:
        self.model = model
        self.code_set = code_set
        self.history = history
        self.settings = settings
        self.threshold = model.threshold if settings.threshold is None else settings.threshold
        self.features = FeatureBuilder(
            index=index,
            code_set=code_set,
            lexicon=model.lexicon,
            dense=dense,
            candidates_per_query=model.candidates_per_query,
            dense_candidates_per_query=model.dense_candidates_per_query,
            dense_unlinked_only=model.dense_unlinked_only,
            window_words=model.window_words,
        )

    @classmethod
    def bundled(cls, settings: CodingSettings) -> CodeSuggester:
        code_set = bundled_code_set()
        model = bundled_coder_model(settings.model)
        return cls(
            model=model,
            code_set=code_set,
            index=bundled_lexical_index(),
            # A coder trained without dense retrieval never loads the encoder.
            dense=bundled_dense_retriever() if model.dense_candidates_per_query else None,
            history=HistoryCodes.load(code_set),
            settings=settings,
        )

    @property
    def model_name(self) -> str:
        return f"{self.model.name}:{self.model.version}"

    def _final_code(self, code: str, encounter: str, decision: Decision) -> str | None:
        # Every mention's every candidate passes here: the rules see each triple once.
        cache = self.__dict__.setdefault("_final_codes", {})
        key = (code, encounter, decision)
        if key not in cache:
            cache[key] = self._apply_code_rules(code, encounter, decision)
        return cache[key]

    def _apply_code_rules(self, code: str, encounter: str, decision: Decision) -> str | None:
        code = with_seventh_character(code, encounter, self.code_set)
        if decision is Decision.HISTORY:
            return self.history.history_code(code)
        return code

    def code_note(
        self, text: str, entities: Sequence[ClinicalEntity], assert_spans: AssertSpans
    ) -> list[SuggestedCode]:
        """``suggest`` with the note's coder mentions (phrases no PROBLEM entity
        covers), asserted by ``assert_spans`` with the entity step's rules."""
        mentions = coder_mentions(
            text,
            entities,
            self.model.lexicon,
            min_documents=self.model.lexicon_mention_documents,
            assert_spans=assert_spans,
            model=f"{LEXICON_MODEL}:{self.model.version}",
        )
        return self.suggest(text, entities, mentions)

    def proposals(self, text: str, entities: Sequence[ClinicalEntity]) -> dict[str, _Proposals]:
        best: dict[str, _Proposals] = {}
        coded = [
            (self.features.mention(text, index, entity), entity, decision)
            for index, entity in problem_entities(entities)
            if (decision := self.settings.policy.decide(entity.assertion)) is not Decision.SKIP
        ]
        vectors = self.features.embed([mention for mention, _, _ in coded])
        for mention, entity, decision in coded:
            found = self.features.candidates(mention, entity, vectors)
            encounter = encounter_character(mention.window)
            names_code = found.matrix[:, SURFACE_COVERAGE] > 0
            for code, probability, named in zip(
                found.codes,
                self.model.pair_probability(found.matrix).tolist(),
                names_code.tolist(),
                strict=True,
            ):
                final = self._final_code(code, encounter, decision)
                if final is None:
                    continue
                current = best.get(final)
                if current is None:
                    current = best[final] = _Proposals(mention, code)
                if (named, probability) > current.attribution:
                    current.attribution, current.mention = (named, probability), mention
                    current.source_code = code
                current.proposed_by.append((mention, probability))
        return best

    def suggest(
        self,
        text: str,
        entities: Sequence[ClinicalEntity],
        coder_mentions: Sequence[ClinicalEntity] = (),
    ) -> list[SuggestedCode]:
        """Codes for the note's entities and any asserted ``coder_mentions``; each
        suggestion's ``entity_index`` counts the entities, then the coder mentions."""
        best = self.proposals(text, [*entities, *coder_mentions])
        prior = self.model.lexicon.code_documents
        scored = {
            code: self.model.note_score(found.probabilities, math.log1p(prior.get(code, 0)))
            for code, found in best.items()
        }
        ranked = sorted(scored, key=lambda code: (-scored[code], code))
        suggested = drop_unspecified_siblings(
            [code for code in ranked if scored[code] >= self.threshold], self.code_set
        )[: self.settings.max_codes_per_note]
        candidates = [
            code
            for code in ranked
            if scored[code] < self.threshold and scored[code] >= self.settings.candidate_floor
        ][: self.settings.max_candidates_per_note]
        return [
            SuggestedCode(
                code=code,
                description=self.code_set.entries[code].title,
                rank=rank,
                score=round(scored[code], 4),
                entity_index=best[code].mention.entity_index,
                evidence=self._evidence(text, best[code]),
                status=SUGGESTED if scored[code] >= self.threshold else CANDIDATE,
            )
            for rank, code in enumerate(suggested + candidates, start=1)
        ]

    def _evidence(self, text: str, found: _Proposals) -> tuple[tuple[int, int], ...]:
        mention = found.mention
        spans = [(mention.start, mention.end)]
        spans += self.features.specificity_spans(text, mention, found.source_code)
        spans += [(other.start, other.end) for other in found.supporting()]
        return tuple(dict.fromkeys(spans))
