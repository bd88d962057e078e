"""Random members and the two reference engines (hccinfhir, risk-adjustment-model),
for the differential tests and ``bench/hcc_differential.py``.

Diagnoses are drawn only from codes whose CC is the same in deidcode's pinned
mapping and in risk-adjustment-model's own table for that year, so that a
mismatch is a difference of logic, not of table vintage. hccinfhir is given
deidcode's mapping directly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from transforms.hcc.engine import Member, MemberScore, ModelScore, normalise_code, score_member
from transforms.hcc.tables import ModelTables, load_payment_year

_DUAL_CODES = {"none": "NA", "partial": "01", "full": "02"}
_MODEL_NAMES = {"V24": "CMS-HCC Model V24", "V28": "CMS-HCC Model V28"}


def _ram_directory(model: str) -> Path:
    import risk_adjustment_model

    return Path(risk_adjustment_model.__file__).parent / "reference_data/medicare" / model.lower()


def ram_year(model: str, year: int) -> int:
    """risk-adjustment-model ships V28 tables for 2024, 2026, 2027 only: PY2025 uses 2024's
    (the V28 coefficients are the same; the codes compared are those both mappings agree on)."""
    years = sorted(int(d.name) for d in _ram_directory(model).iterdir() if d.name.isdigit())
    return max(y for y in years if y <= year)


@lru_cache(maxsize=8)
def _ram_mapping(model: str, year: int) -> dict[str, frozenset[str]]:
    path = _ram_directory(model) / str(ram_year(model, year)) / "diag_to_category_map.txt"
    mapping: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            mapping.setdefault(parts[0], set()).add(parts[1].removeprefix("HCC"))
    return {code: frozenset(ccs) for code, ccs in mapping.items()}


@lru_cache(maxsize=8)
def agreeing_codes(model: str, year: int) -> dict[str, tuple[str, ...]]:
    """HCC -> codes mapping to it alone, the same in both tables."""
    ours = load_payment_year(year).models[model].dx_to_cc
    theirs = _ram_mapping(model, year)
    by_hcc: dict[str, list[str]] = {}
    for code, ccs in sorted(ours.items()):
        if len(ccs) == 1 and theirs.get(code) == frozenset(ccs):
            by_hcc.setdefault(ccs[0], []).append(code)
    return {hcc: tuple(codes) for hcc, codes in by_hcc.items()}


def random_member(rng: random.Random, index: int) -> Member:
    new_enrollee = rng.random() < 0.15
    institutional = not new_enrollee and rng.random() < 0.15
    age = rng.choice([rng.randint(18, 64), rng.randint(64, 70), rng.randint(65, 100)])
    return Member(
        member_id=f"M{index:07d}",
        age=age,
        sex=rng.choice("FM"),
        orec=rng.choice(["0", "0", "1", "1", "2", "3"]) if age < 65 else rng.choice("0001"),
        dual=rng.choice(["none", "none", "partial", "full"]),
        institutional=institutional,
        new_enrollee=new_enrollee,
        snp=new_enrollee and rng.random() < 0.4,
    )


def random_codes(rng: random.Random, tables: ModelTables, year: int) -> list[str]:
    """5-15 codes, picked to hit hierarchies (a parent with its children) and interactions."""
    available = agreeing_codes(tables.model, year)
    hccs = sorted(available, key=int)
    chosen: list[str] = []
    while len(chosen) < rng.randint(5, 15):
        parent = rng.choice(hccs)
        family = [parent, *sorted(tables.hierarchy.get(parent, ()), key=int)]
        for hcc in rng.sample(family, k=min(len(family), rng.randint(1, 3))):
            if hcc in available:
                chosen.append(rng.choice(available[hcc]))
    return chosen[:15]


@dataclass(frozen=True)
class Comparison:
    engine: str
    model: str
    segment: str
    ours_hccs: frozenset[str]
    their_hccs: frozenset[str]
    ours_raw: float
    their_raw: float
    # Why a difference is a known disagreement of the reference with CMS's rules.
    explained: str | None = None

    @property
    def matches(self) -> bool:
        return self.ours_hccs == self.their_hccs and abs(self.ours_raw - self.their_raw) < 1e-3


def hccinfhir_compare(member: Member, codes: list[str], ours: MemberScore) -> list[Comparison]:
    from hccinfhir.model_calculate import calculate_raf

    results = []
    for model, score in ours.models.items():
        tables = load_payment_year(ours.payment_year).models[model]
        mapping = {(c, _MODEL_NAMES[model]): set(ccs) for c, ccs in tables.dx_to_cc.items()}
        theirs = calculate_raf(
            codes,
            _MODEL_NAMES[model],
            age=member.age,
            sex=member.sex,
            dual_elgbl_cd=_DUAL_CODES[member.dual],
            orec=member.orec,
            new_enrollee=member.new_enrollee,
            snp=member.snp,
            lti=member.institutional,
            dx_to_cc_mapping=mapping,
        )
        their_hccs = frozenset() if member.new_enrollee else frozenset(theirs.hcc_list)
        results.append(
            Comparison(
                "hccinfhir",
                model,
                score.segment,
                frozenset(h.hcc for h in score.hccs if not h.dropped_by),
                their_hccs,
                score.raw,
                theirs.risk_score,
            )
        )
    return results


@lru_cache(maxsize=8)
def _ram_engine(model: str, year: int):  # noqa: ANN202 - a risk-adjustment-model model
    from risk_adjustment_model import MedicareModelV24, MedicareModelV28

    return (MedicareModelV28 if model == "V28" else MedicareModelV24)(year=year)


def ram_compare(member: Member, codes: list[str], ours: MemberScore) -> list[Comparison]:
    """risk-adjustment-model has no SNPNE segment: those members are not compared with it."""

    results = []
    without_mce = score_member(member, codes, ours.payment_year, mce_edits=False)
    for model, score in ours.models.items():
        if score.segment == "SNPNE" or ram_year(model, ours.payment_year) != ours.payment_year:
            # No SNPNE segment, or no tables of this payment year, in risk-adjustment-model.
            continue
        engine = _ram_engine(model, ram_year(model, ours.payment_year))
        population = score.segment
        theirs = engine.score(
            gender=member.sex,
            orec=member.orec,
            medicaid=member.medicaid,
            diagnosis_codes=codes,
            age=member.age,
            population=population,
        )
        # It lists a new enrollee's HCCs without scoring them; deidcode does not list them.
        their_hccs = frozenset(
            c.removeprefix("HCC")
            for c in theirs.category_list
            if re.fullmatch(r"HCC\d+", c) and score.segment != "NE"
        )
        comparison = Comparison(
            "risk-adjustment-model",
            model,
            score.segment,
            frozenset(h.hcc for h in score.hccs if not h.dropped_by),
            their_hccs,
            score.raw,
            theirs.score_raw,
        )
        if not comparison.matches:
            comparison = _explain_ram_difference(comparison, member, codes, ours, without_mce)
        results.append(comparison)
    return results


def _same(score: ModelScore, hccs: frozenset[str], raw: float) -> bool:
    counted = frozenset(h.hcc for h in score.hccs if not h.dropped_by)
    return counted == hccs and abs(score.raw - raw) < 1e-3


def _explain_ram_difference(
    comparison: Comparison,
    member: Member,
    codes: list[str],
    ours: MemberScore,
    without_mce: MemberScore,
) -> Comparison:
    """Name a difference that comes from a known departure of risk-adjustment-model
    from the CMS software, by re-scoring as that departure would."""
    model, hccs, raw = comparison.model, comparison.their_hccs, comparison.their_raw
    # It does not apply the Medicare Code Editor age conditions, which the CMS
    # V28 software applies by default (SEDITS=1).
    if _same(without_mce.models[model], hccs, raw):
        return replace(comparison, explained="reference skips MCE age edits")
    # When HCC 223 (heart assist device) comes without heart failure, the CMS
    # software zeroes CC 223 before the hierarchies; risk-adjustment-model still
    # lets HCC 223 drop its children (HCC 227) and only then removes it.
    tables = load_payment_year(ours.payment_year).models[model]
    present = {cc for code in codes for cc in tables.dx_to_cc.get(normalise_code(code), ())}
    if model == "V28" and "223" in present and not present & {"221", "222", "224", "225", "226"}:
        children = tables.hierarchy.get("223", frozenset())
        kept = [c for c in codes if not set(tables.dx_to_cc.get(normalise_code(c), ())) & children]
        rescored = score_member(member, kept, ours.payment_year).models[model]
        if _same(rescored, hccs, raw):
            return replace(
                comparison, explained="reference applies HCC 223's hierarchy after removing it"
            )
    return comparison


def run_differential(
    n_members: int, payment_year: int, seed: int
) -> list[tuple[Member, list[str], list[Comparison]]]:
    rng = random.Random(seed)
    year = load_payment_year(payment_year)
    rows = []
    for index in range(n_members):
        member = random_member(rng, index)
        codes = random_codes(rng, year.models["V28"], payment_year)
        if "V24" in year.models:
            codes += random_codes(rng, year.models["V24"], payment_year)[:5]
        ours = score_member(member, codes, year)
        comparisons = hccinfhir_compare(member, codes, ours) + ram_compare(member, codes, ours)
        rows.append((member, codes, comparisons))
    return rows
