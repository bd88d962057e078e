"""PHI detectors: a ``Detector`` base, a registry of named detectors, and the built-ins."""

from transforms.detectors.base import (
    DETECTOR_REGISTRY,
    Detector,
    build_detectors,
    register_detector,
)

__all__ = ["DETECTOR_REGISTRY", "Detector", "build_detectors", "register_detector"]
