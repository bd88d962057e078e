"""The CMS-HCC model tables, loaded once from files pinned by sha256.

``data/provenance.json`` names every file with its hash and origin;
``data/payment_years.json`` says which mapping, normalisation factors and blend
each payment year uses. A file whose bytes differ from its pinned hash is
refused: a silently edited coefficient would change every member's score.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

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


def _checked_path(name: str) -> Path:
    provenance = json.loads((DATA_DIR / "provenance.json").read_text(encoding="utf-8"))
    entry = provenance["files"].get(name)
    if entry is None:
        raise HccTableError(f"HCC table {name} is not listed in data/provenance.json")
    path = DATA_DIR / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise HccTableError(f"HCC table {path} is missing") from None
    if digest != entry["sha256"]:
        raise HccTableError(f"HCC table {path} has sha256 {digest}, pinned {entry['sha256']}")
    return path


def _rows(name: str) -> list[dict[str, str]]:
    with _checked_path(name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=8)
def _dx_to_cc(name: str, model: str) -> dict[str, tuple[str, ...]]:
    mapping: dict[str, list[str]] = defaultdict(list)
    for row in _rows(name):
        if row["model_name"] == _MODEL_NAMES[model]:
            mapping[row["diagnosis_code"]].append(row["cc"])
    return {code: tuple(sorted(set(ccs), key=int)) for code, ccs in mapping.items()}


@lru_cache(maxsize=2)
def _shared(model: str) -> tuple[dict, dict, dict, dict]:
    hierarchy: dict[str, set[str]] = defaultdict(set)
    for row in _rows("ra_hierarchies_2026.csv"):
        if row["model_domain"] == "CMS-HCC" and row["model_version"] == model:
            hierarchy[row["cc_parent"]].add(row["cc_child"])
    coefficients = {
        row["coefficient"].upper(): float(row["value"])
        for row in _rows("ra_coefficients_2026.csv")
        if row["model_domain"] == "CMS-HCC" and row["model_version"] == _COEFFICIENT_VERSIONS[model]
    }
    labels = {
        row["cc"].removeprefix("HCC"): row["label"].strip()
        for row in _rows("ra_labels_2026.csv")
        if row["model_domain"] == "CMS-HCC" and row["model_version"] == model
    }
    edits = {}
    for row in _rows("ra_dx_edits.csv"):
        if row["model_name"] == _MODEL_NAMES[model]:
            edits[row["icd10"]] = EditRule(
                kind=row["edit_type"],
                sex=row["sex"] or None,
                age_min=int(row["age_min"]) if row["age_min"] else None,
                age_max=int(row["age_max"]) if row["age_max"] else None,
                action=row["action"],
                cc_override=row["cc_override"] or None,
            )
    frozen = {parent: frozenset(children) for parent, children in hierarchy.items()}
    return frozen, coefficients, labels, edits


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
        hierarchy, coefficients, labels, edits = _shared(model)
        dx_to_cc = _dx_to_cc(entry["dx_to_cc"], model)
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
