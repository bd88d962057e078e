"""The model registry: one folder per model, with a manifest that pins every file.

A model is a token classifier (``task: token-classification``: the PHI and
clinical NER models) or a sentence encoder (``task: feature-extraction``: the
coder's dense retrieval), whose token vectors are pooled as ``pooling`` says.
A model folder holds its ONNX variants (``fp32``, ``fp16`` for GPU, ``int8``
for CPU), ``tokenizer.json``, ``manifest.json`` and ``MODEL_CARD.md``. The
loader checks every file's sha256 against the manifest and refuses a missing
or changed file, naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REGISTRY_DIR = Path(__file__).resolve().parent
MANIFEST_NAME = "manifest.json"
LABEL_SCHEMES = ("BIO", "BIOES", "IO")
TOKEN_CLASSIFICATION = "token-classification"
FEATURE_EXTRACTION = "feature-extraction"
TASKS = (TOKEN_CLASSIFICATION, FEATURE_EXTRACTION)
POOLINGS = ("mean",)
VARIANTS = ("fp32", "fp16", "int8")


class ModelRegistryError(ValueError):
    """A model is missing, incomplete or altered; the message names the model and file."""


@dataclass(frozen=True)
class SpecialTokens:
    """Token ids that frame a window: ``[start] tokens [end]``, padded with ``pad``."""

    start: int
    end: int
    pad: int


@dataclass(frozen=True)
class ModelManifest:
    name: str
    version: str
    id2label: dict[int, str]
    label_scheme: str
    # Model entity label (without B-/I-/E-/S-) -> deidcode subtype.
    label_map: dict[str, str]
    max_length: int
    stride: int
    special_tokens: SpecialTokens
    input_names: tuple[str, ...]
    variants: dict[str, str]
    source_checkpoint: str
    license: str
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    evaluation: dict[str, Any] = field(default_factory=dict)
    do_lower_case: bool = False
    task: str = TOKEN_CLASSIFICATION
    pooling: str = ""  # feature-extraction only: how token vectors become one vector
    # Per-label score thresholds chosen on validation data for this model (a
    # PHI model's are per coarse PHI type); a caller's own thresholds win.
    thresholds: dict[str, float] = field(default_factory=dict)
    # The entity_mass decoding those thresholds were chosen with (None: each word
    # takes its most probable label). They are one calibration and travel together.
    entity_mass: float | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ModelRegistryError(
                f"model {self.name}: task {self.task!r} is not one of {', '.join(TASKS)}"
            )
        if self.task == FEATURE_EXTRACTION:
            if self.pooling not in POOLINGS:
                raise ModelRegistryError(
                    f"model {self.name}: a feature-extraction model needs pooling "
                    f"({', '.join(POOLINGS)}), not {self.pooling!r}"
                )
        elif self.label_scheme not in LABEL_SCHEMES:
            raise ModelRegistryError(
                f"model {self.name}: label_scheme {self.label_scheme!r} is not one of "
                f"{', '.join(LABEL_SCHEMES)}"
            )
        if any(not 0.0 <= value <= 1.0 for value in self.thresholds.values()):
            raise ModelRegistryError(f"model {self.name}: thresholds must be between 0 and 1")
        if self.entity_mass is not None and not 0.0 < self.entity_mass <= 1.0:
            raise ModelRegistryError(f"model {self.name}: entity_mass must be in (0, 1], or null")
        unknown = sorted(set(self.variants) - set(VARIANTS))
        if unknown:
            raise ModelRegistryError(f"model {self.name}: unknown variant(s) {unknown}")
        if not 8 <= self.max_length <= 8192 or not 0 <= self.stride < self.max_length - 2:
            raise ModelRegistryError(
                f"model {self.name}: max_length {self.max_length} and stride {self.stride} "
                f"do not leave room for windows"
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelManifest:
        try:
            return cls(
                name=data["name"],
                version=str(data["version"]),
                id2label={int(k): v for k, v in data["id2label"].items()},
                label_scheme=data["label_scheme"],
                label_map=dict(data["label_map"]),
                max_length=int(data["max_length"]),
                stride=int(data["stride"]),
                special_tokens=SpecialTokens(**data["special_tokens"]),
                input_names=tuple(data["input_names"]),
                variants=dict(data["variants"]),
                source_checkpoint=data["source_checkpoint"],
                license=data["license"],
                files=dict(data.get("files", {})),
                evaluation=dict(data.get("evaluation", {})),
                do_lower_case=bool(data.get("do_lower_case", False)),
                task=data.get("task", TOKEN_CLASSIFICATION),
                pooling=data.get("pooling", ""),
                thresholds={k: float(v) for k, v in data.get("thresholds", {}).items()},
                entity_mass=(
                    None if data.get("entity_mass") is None else float(data["entity_mass"])
                ),
            )
        except KeyError as exc:
            name = data.get("name", "<unnamed>")
            raise ModelRegistryError(f"model {name}: manifest lacks key {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["id2label"] = {str(k): v for k, v in sorted(self.id2label.items())}
        data["input_names"] = list(self.input_names)
        return data

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


def sha256_file(path: Path) -> str:
    # The registry sits below transforms/, so it keeps its own two lines rather
    # than import transforms.core.hashing upward.
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_dir(name_or_path: str | os.PathLike[str]) -> Path:
    """A registry name (``onnx_models/NAME``) or a path to a model folder."""
    candidate = Path(name_or_path)
    if (candidate / MANIFEST_NAME).is_file():
        return candidate.resolve()
    registered = REGISTRY_DIR / str(name_or_path)
    if (registered / MANIFEST_NAME).is_file():
        return registered
    known = ", ".join(list_models()) or "none"
    raise ModelRegistryError(
        f"model {name_or_path} not found: no {MANIFEST_NAME} there or in the registry "
        f"(registered models: {known})"
    )


def list_models() -> list[str]:
    return sorted(p.parent.name for p in REGISTRY_DIR.glob(f"*/{MANIFEST_NAME}"))


def read_manifest(directory: Path) -> ModelManifest:
    path = directory / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelRegistryError(f"{path} cannot be read ({type(exc).__name__})") from None
    return ModelManifest.from_dict(data)


def verify_files(directory: Path, manifest: ModelManifest) -> None:
    """Check every file the manifest pins; refuse a missing or mismatched one by name."""
    if not manifest.files:
        raise ModelRegistryError(f"model {manifest.name}: the manifest pins no files")
    needed = {*manifest.variants.values(), "tokenizer.json"}
    unpinned = sorted(needed - set(manifest.files))
    if unpinned:
        raise ModelRegistryError(f"model {manifest.name}: files not pinned by sha256: {unpinned}")
    for relative, expected in sorted(manifest.files.items()):
        path = directory / relative
        if not path.is_file():
            raise ModelRegistryError(f"model {manifest.name}: file {path} is missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelRegistryError(
                f"model {manifest.name}: file {path} has sha256 {actual[:12]}…, "
                f"the manifest expects {expected[:12]}…"
            )


@dataclass(frozen=True)
class ModelBundle:
    directory: Path
    manifest: ModelManifest

    def variant_path(self, variant: str) -> Path:
        if variant not in self.manifest.variants:
            raise ModelRegistryError(
                f"model {self.manifest.name} has no {variant} variant "
                f"(it has {', '.join(sorted(self.manifest.variants))})"
            )
        return self.directory / self.manifest.variants[variant]

    @property
    def tokenizer_path(self) -> Path:
        return self.directory / "tokenizer.json"


def load_bundle(
    name_or_path: str | os.PathLike[str],
    *,
    verify: bool = True,
    task: str | None = TOKEN_CLASSIFICATION,
) -> ModelBundle:
    """The model's folder and manifest; a model made for another ``task`` is refused,
    so a sentence encoder cannot be configured as a PHI detector (None takes any)."""
    directory = model_dir(name_or_path)
    manifest = read_manifest(directory)
    if task is not None and manifest.task != task:
        raise ModelRegistryError(
            f"model {manifest.name} is a {manifest.task} model; this step needs {task}"
        )
    if verify:
        verify_files(directory, manifest)
    return ModelBundle(directory, manifest)


def write_manifest(directory: Path, manifest: ModelManifest) -> ModelManifest:
    """Pin every file in the folder (but the manifest) by sha256 and write the manifest."""
    files = {
        str(path.relative_to(directory)): sha256_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }
    pinned = ModelManifest.from_dict({**manifest.to_dict(), "files": files})
    (directory / MANIFEST_NAME).write_text(
        json.dumps(pinned.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return pinned


def target_measure(metrics: dict[str, Any], target: dict[str, Any]) -> float | None:
    """The figure of an eval metrics.json that a model-card target (the manifest's
    ``evaluation.targets``) is about; None where the metrics hold no such type."""
    if target["level"] == "hard_negatives":
        return metrics["hard_negatives"][target["metric"]]
    by_type = metrics[target["level"]]
    return by_type[target["type"]][target["metric"]] if target["type"] in by_type else None


def target_met(value: float, target: dict[str, Any]) -> bool:
    return value >= target["value"] if target["op"] == ">=" else value <= target["value"]
