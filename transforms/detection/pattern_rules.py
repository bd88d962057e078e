"""Pattern rules as data: the ``PatternRule`` dataclass and its YAML loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from transforms.detection.base import DetectorConfigError

VALIDATORS = ("month_day", "age", "facility_abbreviation", "uncommon_word")


@dataclass(frozen=True)
class RulePattern:
    name: str
    regex: str
    score: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, rule: str) -> RulePattern:
        try:
            return cls(name=str(data["name"]), regex=str(data["regex"]), score=float(data["score"]))
        except KeyError as exc:
            raise DetectorConfigError(f"pattern rule {rule!r}: pattern is missing {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "regex": self.regex, "score": self.score}


@dataclass(frozen=True)
class PatternRule:
    """One recognizer: a subtype and the regexes that find it."""

    name: str
    subtype: str
    patterns: tuple[RulePattern, ...]
    ignore_case: bool = True
    context: tuple[str, ...] = ()
    validator: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatternRule:
        name = str(data.get("name", "<unnamed>"))
        for key in ("name", "subtype", "patterns"):
            if key not in data:
                raise DetectorConfigError(f"pattern rule {name!r}: missing key {key!r}")
        validator = data.get("validator")
        if validator is not None and validator not in VALIDATORS:
            raise DetectorConfigError(
                f"pattern rule {name!r}: unknown validator {validator!r}; "
                f"expected one of {', '.join(VALIDATORS)}"
            )
        return cls(
            name=name,
            subtype=str(data["subtype"]).upper(),
            patterns=tuple(RulePattern.from_dict(p, rule=name) for p in data["patterns"]),
            ignore_case=bool(data.get("ignore_case", True)),
            context=tuple(data.get("context", ())),
            validator=validator,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subtype": self.subtype,
            "patterns": [p.to_dict() for p in self.patterns],
            "ignore_case": self.ignore_case,
            "context": list(self.context),
            "validator": self.validator,
        }

    def expanded(self, macros: Mapping[str, str]) -> PatternRule:
        """Return the rule with ``{MACRO}`` references replaced in every regex."""

        def expand(regex: str) -> str:
            for key, value in macros.items():
                regex = regex.replace("{" + key + "}", value)
            return regex

        patterns = tuple(
            RulePattern(name=p.name, regex=expand(p.regex), score=p.score) for p in self.patterns
        )
        return PatternRule(
            name=self.name,
            subtype=self.subtype,
            patterns=patterns,
            ignore_case=self.ignore_case,
            context=self.context,
            validator=self.validator,
        )


@dataclass(frozen=True)
class RuleSet:
    macros: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[PatternRule, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
        rules = tuple(PatternRule.from_dict(r).expanded(macros) for r in data.get("rules") or [])
        return cls(macros=macros, rules=rules)


def load_builtin_rules() -> RuleSet:
    text = resources.files("transforms.detection").joinpath("clinical_patterns.yaml").read_text()
    return RuleSet.from_dict(yaml.safe_load(text))
