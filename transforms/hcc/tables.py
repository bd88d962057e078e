"""The CMS-HCC model tables, loaded once from files pinned by sha256.

``data/provenance.json`` names every file with its hash and origin;
``data/payment_years.json`` says which mapping, normalisation factors and blend
each payment year uses. A file whose bytes differ from its pinned hash is
refused: a silently edited coefficient would change every member's score.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from transforms.core.hashing import sha256_file

DATA_DIR = Path(__file__).parent / "data"
MODELS = ("V24", "V28")
# How each source file names the models.
_MODEL_NAMES = {"V24": "CMS-HCC Model V24", "V28": "CMS-HCC Model V28"}
_COEFFICIENT_VERSIONS = {"V24": "C24", "V28": "C28"}


class HccTableError(ValueError):
    """A model table is missing, altered, or lacks what a payment year needs."""


@dataclass(frozen=True)
class EditRule:
    """One CMS age/sex edit: when it fires, the code is dropped or moved to another CC."""

    kind: str  # sex | age | mce_age
    sex: str | None  # "1" male, "2" female
    age_min: int | None
    age_max: int | None
    action: str  # invalid | override
    cc_override: str | None

    def fires(self, *, age: int, sex: str) -> bool:
        if self.kind == "sex":
            return self.sex == sex
        # Age edits fire at or below age_max, or at or above age_min (outside a valid range).
        return (self.age_max is not None and age <= self.age_max) or (
            self.age_min is not None and age >= self.age_min
        )


@dataclass(frozen=True)
class ModelTables:
    """Everything one model (V24 or V28) needs for one payment year."""

    model: str
    payment_year: int
    dx_to_cc: dict[str, tuple[str, ...]]
    hierarchy: dict[str, frozenset[str]]  # parent HCC -> HCCs it drops
    coefficients: dict[str, float]  # "CNA_HCC85" -> relative factor
    labels: dict[str, str]
    edits: dict[str, EditRule]
    normalization: float
    blend_weight: float


@dataclass(frozen=True)
class PaymentYear:
    year: int
    models: dict[str, ModelTables]
    ma_coding_adjustment: float

    @cached_property
    def mapped_codes(self) -> frozenset[str]:
        """Every code any of the year's models maps to a CC."""
        return frozenset(code for tables in self.models.values() for code in tables.dx_to_cc)


@lru_cache(maxsize=1)
def _pinned_files() -> dict[str, dict[str, str]]:
    return json.loads((DATA_DIR / "provenance.json").read_text(encoding="utf-8"))["files"]


def _checked_path(name: str) -> Path:
    entry = _pinned_files().get(name)
    if entry is None:
        raise HccTableError(f"HCC table {name} is not listed in data/provenance.json")
    path = DATA_DIR / name
    try:
        digest = sha256_file(path)
    except FileNotFoundError:
        raise HccTableError(f"HCC table {path} is missing") from None
    if digest != entry["sha256"]:
        raise HccTableError(f"HCC table {path} has sha256 {digest}, pinned {entry['sha256']}")
    return path


def _rows(name: str) -> list[dict[str, str]]:
    with _checked_path(name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def _dx_to_cc(name: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Model -> code -> CCs, for every model, from one read of the mapping file."""
    by_name = {full: model for model, full in _MODEL_NAMES.items()}
    mappings: dict[str, dict[str, list[str]]] = {model: defaultdict(list) for model in MODELS}
    for row in _rows(name):
        model = by_name.get(row["model_name"])
        if model is not None:
            mappings[model][row["diagnosis_code"]].append(row["cc"])
    return {
        model: {code: tuple(sorted(set(ccs), key=int)) for code, ccs in mapping.items()}
        for model, mapping in mappings.items()
    }


@lru_cache(maxsize=1)
def _shared() -> dict[str, tuple[dict, dict, dict, dict]]:
    """Model -> (hierarchy, coefficients, labels, edits), reading each file once."""
    hierarchies: dict[str, dict[str, set[str]]] = {m: defaultdict(set) for m in MODELS}
    for row in _rows("ra_hierarchies_2026.csv"):
        if row["model_domain"] == "CMS-HCC" and row["model_version"] in hierarchies:
            hierarchies[row["model_version"]][row["cc_parent"]].add(row["cc_child"])
    by_coefficient_version = {version: model for model, version in _COEFFICIENT_VERSIONS.items()}
    coefficients: dict[str, dict[str, float]] = {m: {} for m in MODELS}
    for row in _rows("ra_coefficients_2026.csv"):
        model = by_coefficient_version.get(row["model_version"])
        if row["model_domain"] == "CMS-HCC" and model is not None:
            coefficients[model][row["coefficient"].upper()] = float(row["value"])
    labels: dict[str, dict[str, str]] = {m: {} for m in MODELS}
    for row in _rows("ra_labels_2026.csv"):
        if row["model_domain"] == "CMS-HCC" and row["model_version"] in labels:
            labels[row["model_version"]][row["cc"].removeprefix("HCC")] = row["label"].strip()
    by_name = {full: model for model, full in _MODEL_NAMES.items()}
    edits: dict[str, dict[str, EditRule]] = {m: {} for m in MODELS}
    for row in _rows("ra_dx_edits.csv"):
        model = by_name.get(row["model_name"])
        if model is not None:
            edits[model][row["icd10"]] = EditRule(
                kind=row["edit_type"],
                sex=row["sex"] or None,
                age_min=int(row["age_min"]) if row["age_min"] else None,
                age_max=int(row["age_max"]) if row["age_max"] else None,
                action=row["action"],
                cc_override=row["cc_override"] or None,
            )
    return {
        model: (
            {parent: frozenset(children) for parent, children in hierarchies[model].items()},
            coefficients[model],
            labels[model],
            edits[model],
        )
        for model in MODELS
    }


@lru_cache(maxsize=1)
def icd10cm_codes() -> dict[str, bool]:
    """Every ICD-10-CM code (no dot) -> whether it is billable (a leaf of the classification)."""
    with gzip.open(_checked_path("icd10cm_codes.txt.gz"), "rt", encoding="ascii") as handle:
        return {code: flag == "1" for code, flag in (line.split() for line in handle)}


def supported_payment_years() -> list[int]:
    document = json.loads((DATA_DIR / "payment_years.json").read_text(encoding="utf-8"))
    return sorted(int(year) for year in document["payment_years"])


@lru_cache(maxsize=8)
def load_payment_year(year: int) -> PaymentYear:
    document = json.loads((DATA_DIR / "payment_years.json").read_text(encoding="utf-8"))
    entry = document["payment_years"].get(str(year))
    if entry is None:
        raise HccTableError(
            f"payment year {year} is not supported; supported: {supported_payment_years()}"
        )
    models = {}
    for model, weight in entry["blend"].items():
        hierarchy, coefficients, labels, edits = _shared()[model]
        dx_to_cc = _dx_to_cc(entry["dx_to_cc"])[model]
        if not dx_to_cc:
            raise HccTableError(f"{entry['dx_to_cc']} has no {model} rows for payment year {year}")
        models[model] = ModelTables(
            model=model,
            payment_year=year,
            dx_to_cc=dx_to_cc,
            hierarchy=hierarchy,
            coefficients=coefficients,
            labels=labels,
            edits=edits,
            normalization=entry["normalization"][model],
            blend_weight=weight,
        )
    return PaymentYear(year, models, document["ma_coding_adjustment"])
