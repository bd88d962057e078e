"""Step 7 of the data flow: the coding step's settings, picklable to the workers.

Built and checked on the driver (a missing or altered model or code set stops
the run there, naming the file); each worker loads the suggester once. The
bundled code set, lexical index and model are process-wide caches, so notes
share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from transforms.coding.model import DEFAULT_CODER
from transforms.coding.rules import AssertionPolicy, HistoricalPolicy
from transforms.coding.suggest import CodeSuggester, CodingSettings


class CodingConfigError(ValueError):
    """The coding step cannot start; the message names the file or key."""


@lru_cache(maxsize=8)
def _suggester(settings: CodingSettings) -> CodeSuggester:
    return CodeSuggester.bundled(settings)


@dataclass(frozen=True)
class CodingStep:
    settings: CodingSettings

    @classmethod
    def build(
        cls,
        *,
        include_negated: bool = False,
        include_uncertain: bool = False,
        historical: str = HistoricalPolicy.HISTORY_CODE.value,
        threshold: float | None = None,
        max_codes_per_note: int = 30,
        max_candidates_per_note: int = 20,
        model: str = DEFAULT_CODER,
    ) -> CodingStep:
        step = cls(
            CodingSettings(
                model=model,
                policy=AssertionPolicy(
                    include_negated=include_negated,
                    include_uncertain=include_uncertain,
                    historical=HistoricalPolicy(historical),
                ),
                threshold=threshold,
                max_codes_per_note=max_codes_per_note,
                max_candidates_per_note=max_candidates_per_note,
            )
        )
        step.suggester()  # a missing or altered model stops the run here
        return step

    def suggester(self) -> CodeSuggester:
        try:
            return _suggester(self.settings)
        except ValueError as exc:  # CodeSetError and CodingRuleError: they name the file
            raise CodingConfigError(f"coding: {exc}") from None

    def describe(self) -> dict[str, Any]:
        suggester = self.suggester()
        policy = self.settings.policy
        return {
            "coder_model": suggester.model_name,
            "threshold": suggester.threshold,
            "include_negated": policy.include_negated,
            "include_uncertain": policy.include_uncertain,
            "historical": policy.historical.value,
            "dense_encoder": dense.describe() if (dense := suggester.features.dense) else None,
        }
