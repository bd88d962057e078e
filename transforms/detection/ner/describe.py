"""Check a configured model before the run and describe it for the manifest."""

from __future__ import annotations

from typing import Any

import onnxruntime as ort

from onnx_models.registry import load_bundle
from onnx_models.runtime.classifier import EngineSettings, choose_runtime


def describe_model(settings: EngineSettings) -> dict[str, Any]:
    """Verify every file's sha256, choose the runtime, and return what the manifest records."""
    bundle = load_bundle(settings.model, verify=True)
    manifest = bundle.manifest
    runtime = choose_runtime(settings, list(manifest.variants), ort.get_available_providers())
    variant_file = manifest.variants[runtime.variant]
    return {
        "name": manifest.name,
        "version": manifest.version,
        "variant": runtime.variant,
        "provider": runtime.providers[0],
        "file": variant_file,
        "sha256": manifest.files[variant_file],
        "source_checkpoint": manifest.source_checkpoint,
        # The scores spans needed: a manifest's calibrated thresholds change what a
        # run releases without changing the model file, so the run records them.
        "default_threshold": settings.default_threshold,
        "entity_mass": effective_entity_mass(settings, manifest.entity_mass),
        "thresholds": dict(sorted(effective_thresholds(settings, manifest.thresholds).items())),
    }


def takes_calibration(settings: EngineSettings) -> bool:
    """Whether the settings take the manifest's calibration (a PHI model's
    ``calibrated_thresholds``; other models have none)."""
    return getattr(settings, "calibrated_thresholds", False)


def effective_thresholds(
    settings: EngineSettings, calibrated: dict[str, float]
) -> dict[str, float]:
    """Per-label thresholds in force: the config's, over the manifest's where the
    settings take those (a PHI model's ``calibrated_thresholds``)."""
    taken = calibrated if takes_calibration(settings) else {}
    return {**taken, **settings.thresholds}


def effective_entity_mass(settings: EngineSettings, calibrated: float | None) -> float | None:
    """The entity_mass in force: the config's, else the manifest's where the settings
    take its calibration (its thresholds were chosen with that decoding)."""
    if settings.entity_mass is not None:
        return settings.entity_mass
    return calibrated if takes_calibration(settings) else None
