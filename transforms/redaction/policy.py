"""The redaction policy: which operator handles a span, built from config by operator name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Importing the package registers the built-in operators under their names.
import transforms.redaction.operators  # noqa: F401
from schemas.phi_types import PHI_TYPES
from transforms.core.spans import Span
from transforms.redaction.operator import OPERATOR_REGISTRY, Operator, OperatorConfigError


def build_operator(spec: Mapping[str, Any]) -> Operator:
    """Build and validate an operator from ``{"type": NAME, ...settings}``."""
    settings = dict(spec)
    kind = settings.pop("type", None)
    if kind not in OPERATOR_REGISTRY:
        raise OperatorConfigError(
            f"unknown operator type {kind!r}; known: {', '.join(sorted(OPERATOR_REGISTRY))}"
        )
    try:
        operator = OPERATOR_REGISTRY[kind](**settings)
    except TypeError as exc:
        raise OperatorConfigError(f"operator {kind!r}: invalid settings ({exc})") from None
    operator.validate()
    return operator


@dataclass(frozen=True)
class RedactionPolicy:
    """Which operator handles a span: by subtype first, then phi_type, then the default."""

    default: Operator
    by_phi_type: Mapping[str, Operator]
    by_subtype: Mapping[str, Operator]

    @classmethod
    def from_config(
        cls,
        default: Mapping[str, Any],
        by_phi_type: Mapping[str, Mapping[str, Any]],
        by_subtype: Mapping[str, Mapping[str, Any]],
    ) -> RedactionPolicy:
        unknown = sorted(set(by_phi_type) - set(PHI_TYPES))
        if unknown:
            raise OperatorConfigError(f"unknown phi_type(s) in redaction.phi_types: {unknown}")
        return cls(
            default=build_operator(default),
            by_phi_type={k: build_operator(v) for k, v in by_phi_type.items()},
            by_subtype={k.upper(): build_operator(v) for k, v in by_subtype.items()},
        )

    def describe(self) -> dict[str, Any]:
        """Which operator handles what, by name: for the manifest and the release report."""
        return {
            "default": self.default.name,
            "phi_types": {k: v.name for k, v in sorted(self.by_phi_type.items())},
            "subtypes": {k: v.name for k, v in sorted(self.by_subtype.items())},
        }

    def operators(self) -> tuple[Operator, ...]:
        return (self.default, *self.by_phi_type.values(), *self.by_subtype.values())

    def operator_for(self, span: Span) -> Operator:
        return (
            self.by_subtype.get(span.subtype) or self.by_phi_type.get(span.phi_type) or self.default
        )
