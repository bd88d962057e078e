"""The ``Detector`` interface and the registry that builds detectors from config.

A detector is registered under a stable name; the YAML config lists detectors
by that name with their options, so a hospital can enable, disable or tune a
detector without touching code.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from transforms.core.registry import name_registrar
from transforms.core.spans import Span


class DetectorConfigError(ValueError):
    """A detector's options are invalid; the message names the detector and option."""


class Detector(ABC):
    """Finds PHI in one note's text.

    Subclasses take keyword-only options in ``__init__`` and must be cheap to
    construct; expensive loading (models, compiled patterns) happens in
    ``load()``, which runs once per worker process.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    # A batched detector runs in its own Beam step (RunInference) before the
    # per-note step, which then reads its results instead of calling detect().
    batched: ClassVar[bool] = False

    def load(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Load heavy resources. Called once per worker before the first ``detect``."""

    @abstractmethod
    def detect(self, text: str) -> list[Span]:
        """Return the PHI spans found in ``text``, offsets into ``text``."""

    def describe(self) -> dict[str, str]:
        """Name and version, as recorded in the audit rows and the manifest."""
        return {"name": self.name, "version": self.version}


DETECTOR_REGISTRY: dict[str, type[Detector]] = {}

# Built-in detectors live in these modules; importing one registers it. Kept
# as names so that a model-backed detector's dependencies load only when used.
_BUILTIN_MODULES: dict[str, str] = {
    "presidio_patterns": "transforms.detection.patterns",
    "onnx_ner": "transforms.detection.ner.handler",
}


# Class decorator: register a detector class under a stable name.
register_detector = name_registrar(DETECTOR_REGISTRY, "detector")


def detector_class(name: str) -> type[Detector]:
    if name not in DETECTOR_REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return DETECTOR_REGISTRY[name]
    except KeyError:
        known = sorted(set(DETECTOR_REGISTRY) | set(_BUILTIN_MODULES))
        raise DetectorConfigError(
            f"unknown detector {name!r}; known detectors: {', '.join(known)}"
        ) from None


def build_detector(name: str, options: Mapping[str, Any]) -> Detector:
    cls = detector_class(name)
    try:
        return cls(**dict(options))
    except TypeError as exc:
        raise DetectorConfigError(f"detector {name!r}: invalid options ({exc})") from None


def build_detectors(specs: list[Mapping[str, Any]]) -> list[Detector]:
    """Build the enabled detectors from config entries ``{name, enabled, options}``."""
    return [
        build_detector(spec["name"], spec.get("options") or {})
        for spec in specs
        if spec.get("enabled", True)
    ]
