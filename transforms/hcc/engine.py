"""Score one member under the CMS-HCC V24 and V28 models: pure functions.

The steps follow the CMS model software: diagnoses map to condition categories
(CCs); the age/sex edits (including V28's MCE age conditions) drop or move
some; hierarchies drop the lesser HCC of a family; interaction and
disease-count variables are derived; the member's segment picks the relative
factors; the raw score is normalised, reduced by the MA coding-pattern
adjustment, and the models are blended by payment year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from transforms.hcc.tables import ModelTables, PaymentYear, load_payment_year

DUAL_STATUSES = ("none", "partial", "full")
OREC_CODES = ("0", "1", "2", "3")

# Disease groups behind the interaction terms, by model (CMS model software, V24 and V28).
_V28_GROUPS = {
    "CANCER": {"17", "18", "19", "20", "21", "22", "23"},
    "DIABETES": {"35", "36", "37", "38"},
    "CARD_RESP_FAIL": {"211", "212", "213"},
    "HF": {"221", "222", "223", "224", "225", "226"},
    "CHR_LUNG": {"276", "277", "278", "279", "280"},
    "KIDNEY": {"326", "327", "328", "329"},
    "SUB_USE": {"135", "136", "137", "138", "139"},
    "PSYCH": {"151", "152", "153", "154", "155"},
    "NEURO": {"180", "181", "182", "190", "191", "192", "195", "196", "198", "199"},
    "ULCER": {"379", "380", "381", "382"},
}
_V24_GROUPS = {
    "CANCER": {"8", "9", "10", "11", "12"},
    "DIABETES": {"17", "18", "19"},
    "CARD_RESP_FAIL": {"82", "83", "84"},
    "CHF": {"85"},
    "COPD": {"110", "111", "112"},
    "RENAL": {"134", "135", "136", "137", "138"},
    "SUB_USE": {"54", "55", "56"},
    "PSYCH": {"57", "58", "59", "60"},
    "ULCER": {"157", "158", "159"},
    "SEPSIS": {"2"},
}


class MemberError(ValueError):
    """Demographics that cannot be scored; the message names the member and field."""


@dataclass(frozen=True)
class Member:
    """Demographics as CMS uses them. ``age`` is the age on February 1 of the payment year."""

    member_id: str
    age: int
    sex: str  # "F" or "M"
    orec: str = "0"  # original reason for entitlement: 0 age, 1 disability, 2 ESRD, 3 both
    dual: str = "none"  # Medicaid dual status: none, partial, full
    institutional: bool = False  # long-term institutional (90+ days)
    new_enrollee: bool = False
    snp: bool = False  # a new enrollee in a chronic-condition SNP

    def problems(self) -> list[str]:
        """What makes these demographics unscorable, naming the input columns, never values."""
        problems = []
        if not isinstance(self.age, int) or not 0 <= self.age <= 125:
            problems.append("age is outside 0-125")
        if self.sex not in ("F", "M"):
            problems.append("sex is not F or M")
        if self.orec not in OREC_CODES:
            problems.append(f"orec is not one of {', '.join(OREC_CODES)}")
        if self.dual not in DUAL_STATUSES:
            problems.append(f"dual_status is not one of {', '.join(DUAL_STATUSES)}")
        return problems

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise MemberError(f"member {self.member_id}: " + "; ".join(problems))

    @property
    def disabled(self) -> bool:
        return self.age < 65 and self.orec != "0"

    @property
    def originally_disabled(self) -> bool:
        return self.orec == "1" and not self.disabled

    @property
    def medicaid(self) -> bool:
        return self.dual != "none"


@dataclass(frozen=True)
class HccResult:
    hcc: str
    label: str
    codes: tuple[str, ...]  # the diagnoses that produced it
    coefficient: float
    dropped_by: tuple[str, ...] = ()  # the HCCs whose hierarchy dropped it; empty if it counts


@dataclass(frozen=True)
class ModelScore:
    model: str
    segment: str
    hccs: tuple[HccResult, ...]  # counted and dropped, ordered by HCC number
    variables: dict[str, float]  # every variable that scored, with its relative factor
    raw: float
    normalized: float
    adjusted: float


@dataclass(frozen=True)
class MemberScore:
    member_id: str
    payment_year: int
    models: dict[str, ModelScore] = field(default_factory=dict)
    blended: float = 0.0

    @property
    def segment(self) -> str:
        return next(iter(self.models.values())).segment


def segment_of(member: Member) -> str:
    if member.new_enrollee:
        return "SNPNE" if member.snp else "NE"
    if member.institutional:
        return "INS"
    dual = {"full": "F", "partial": "P", "none": "N"}[member.dual]
    return f"C{dual}{'A' if member.age >= 65 else 'D'}"


def _age_band(age: int) -> str:
    for upper, band in ((34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64")):
        if age <= upper:
            return band
    for upper, band in ((69, "65_69"), (74, "70_74"), (79, "75_79"), (84, "80_84"), (89, "85_89")):
        if age <= upper:
            return band
    return "90_94" if age <= 94 else "95_GT"


def _new_enrollee_band(age: int, orec: str) -> str:
    # New enrollees have single years 65-69; a 64-year-old entitled by age counts as 65.
    if age == 64 and orec == "0":
        return "65"
    if 65 <= age <= 69:
        return str(age)
    return _age_band(age)


def demographic_variables(member: Member, segment: str) -> list[str]:
    if segment in ("NE", "SNPNE"):
        medicaid = "MCAID" if member.medicaid else "NMCAID"
        origdis = "ORIGDIS" if member.age >= 65 and member.orec == "1" else "NORIGDIS"
        band = _new_enrollee_band(member.age, member.orec)
        return [f"{medicaid}_{origdis}_NE{member.sex}{band}"]
    variables = [f"{member.sex}{_age_band(member.age)}"]
    if segment == "INS":
        if member.originally_disabled:
            variables.append("ORIGDS")
        if member.medicaid:
            variables.append("LTIMCAID")
    elif segment.endswith("A") and member.originally_disabled:
        variables.append(f"OriginallyDisabled_{'Female' if member.sex == 'F' else 'Male'}")
    return variables


def normalise_code(code: str) -> str:
    """ICD-10-CM as the tables hold it: upper case, no dot."""
    return code.replace(".", "").strip().upper()


def map_diagnoses(
    codes: Iterable[str], member: Member, tables: ModelTables, *, mce_edits: bool = True
) -> dict[str, set[str]]:
    """CC -> the codes that map to it, after the age/sex edits.

    ``mce_edits`` mirrors the CMS software's SEDITS switch: on (the CMS default),
    the V28 Medicare Code Editor age conditions apply as well as the model's own edits.
    """
    sex = "2" if member.sex == "F" else "1"
    found: dict[str, set[str]] = {}
    for raw in codes:
        code = raw if raw in tables.dx_to_cc else normalise_code(raw)  # most arrive normalised
        ccs = tables.dx_to_cc.get(code)
        if not ccs:
            continue
        rule = tables.edits.get(code)
        if (
            rule is not None
            and (mce_edits or rule.kind != "mce_age")
            and rule.fires(age=member.age, sex=sex)
        ):
            if rule.action == "invalid":
                continue
            if rule.action == "override" and rule.cc_override:
                ccs = (rule.cc_override,)
        for cc in ccs:
            found.setdefault(cc, set()).add(code)
    return found


def apply_hierarchies(ccs: Iterable[str], tables: ModelTables) -> dict[str, tuple[str, ...]]:
    """Each present HCC -> the present HCCs that drop it (empty: it counts)."""
    present = set(ccs)
    if (
        tables.model == "V28"
        and "223" in present
        and not present & {"221", "222", "224", "225", "226"}
    ):
        # V28: heart assist device status (HCC 223) counts only with heart failure.
        present.discard("223")
    dropped: dict[str, tuple[str, ...]] = {}
    for hcc in present:
        parents = sorted((p for p in present if hcc in tables.hierarchy.get(p, ())), key=int)
        dropped[hcc] = tuple(parents)
    return dropped


def disease_interactions(hccs: set[str], member: Member, model: str) -> list[str]:
    groups = _V28_GROUPS if model == "V28" else _V24_GROUPS
    has = {name: bool(hccs & members) for name, members in groups.items()}
    if model == "V28":
        terms = {
            "DIABETES_HF_V28": has["DIABETES"] and has["HF"],
            "HF_CHR_LUNG_V28": has["HF"] and has["CHR_LUNG"],
            "HF_KIDNEY_V28": has["HF"] and has["KIDNEY"],
            "CHR_LUNG_CARD_RESP_FAIL_V28": has["CHR_LUNG"] and has["CARD_RESP_FAIL"],
            "HF_HCC238_V28": has["HF"] and "238" in hccs,
            "gSubUseDisorder_gPsych_V28": has["SUB_USE"] and has["PSYCH"],
            "DISABLED_CANCER_V28": member.disabled and has["CANCER"],
            "DISABLED_NEURO_V28": member.disabled and has["NEURO"],
            "DISABLED_HF_V28": member.disabled and has["HF"],
            "DISABLED_CHR_LUNG_V28": member.disabled and has["CHR_LUNG"],
            "DISABLED_ULCER_V28": member.disabled and has["ULCER"],
        }
    else:
        terms = {
            "HCC47_gCancer": "47" in hccs and has["CANCER"],
            "DIABETES_CHF": has["DIABETES"] and has["CHF"],
            "CHF_gCopdCF": has["CHF"] and has["COPD"],
            "HCC85_gRenal_V24": has["CHF"] and has["RENAL"],
            "gCopdCF_CARD_RESP_FAIL": has["COPD"] and has["CARD_RESP_FAIL"],
            "HCC85_HCC96": "85" in hccs and "96" in hccs,
            "gSubstanceUseDisorder_gPsych": has["SUB_USE"] and has["PSYCH"],
            "SEPSIS_PRESSURE_ULCER": has["SEPSIS"] and has["ULCER"],
            "SEPSIS_ARTIF_OPENINGS": has["SEPSIS"] and "188" in hccs,
            "ART_OPENINGS_PRESS_ULCER": "188" in hccs and has["ULCER"],
            "gCopdCF_ASP_SPEC_B_PNEUM": has["COPD"] and "114" in hccs,
            "ASP_SPEC_B_PNEUM_PRES_ULC": "114" in hccs and has["ULCER"],
            "SEPSIS_ASP_SPEC_BACT_PNEUM": has["SEPSIS"] and "114" in hccs,
            "SCHIZOPHRENIA_gCopdCF": "57" in hccs and has["COPD"],
            "SCHIZOPHRENIA_CHF": "57" in hccs and has["CHF"],
            "SCHIZOPHRENIA_SEIZURES": "57" in hccs and "79" in hccs,
            "DISABLED_HCC85": member.disabled and "85" in hccs,
            "DISABLED_PRESSURE_ULCER": member.disabled and has["ULCER"],
            "DISABLED_HCC161": member.disabled and "161" in hccs,
            "DISABLED_HCC39": member.disabled and "39" in hccs,
            "DISABLED_HCC77": member.disabled and "77" in hccs,
            "DISABLED_HCC6": member.disabled and "6" in hccs,
        }
    return [name for name, present in terms.items() if present]


def count_variable(n_hccs: int) -> str | None:
    if n_hccs == 0:
        return None
    return "D10P" if n_hccs >= 10 else f"D{n_hccs}"


def score_model(
    member: Member,
    codes: Iterable[str],
    tables: ModelTables,
    ma_adjustment: float,
    *,
    mce_edits: bool = True,
) -> ModelScore:
    segment = segment_of(member)
    variables = demographic_variables(member, segment)
    hcc_results: list[HccResult] = []
    if segment not in ("NE", "SNPNE"):  # new enrollees are scored on demographics alone
        mapped = map_diagnoses(codes, member, tables, mce_edits=mce_edits)
        drops = apply_hierarchies(mapped, tables)
        counted = {hcc for hcc, by in drops.items() if not by}
        variables += [f"HCC{hcc}" for hcc in sorted(counted, key=int)]
        variables += disease_interactions(counted, member, tables.model)
        count = count_variable(len(counted))
        if count:
            variables.append(count)
        for hcc in sorted(drops, key=int):
            hcc_results.append(
                HccResult(
                    hcc=hcc,
                    label=tables.labels.get(hcc, ""),
                    codes=tuple(sorted(mapped[hcc])),
                    coefficient=tables.coefficients.get(f"{segment}_HCC{hcc}", 0.0)
                    if not drops[hcc]
                    else 0.0,
                    dropped_by=drops[hcc],
                )
            )
    scored = {}
    for variable in variables:
        factor = tables.coefficients.get(f"{segment}_{variable}".upper())
        if factor is not None:
            scored[variable] = factor
    raw = sum(scored.values())
    normalized = raw / tables.normalization
    return ModelScore(
        model=tables.model,
        segment=segment,
        hccs=tuple(hcc_results),
        variables=scored,
        raw=raw,
        normalized=normalized,
        adjusted=normalized * (1.0 - ma_adjustment),
    )


def score_member(
    member: Member,
    codes: Iterable[str],
    payment_year: int | PaymentYear,
    *,
    mce_edits: bool = True,
) -> MemberScore:
    """Score a member's eligible diagnosis codes under every model the payment year blends."""
    member.validate()
    year = (
        payment_year if isinstance(payment_year, PaymentYear) else load_payment_year(payment_year)
    )
    codes = list(codes)
    models = {
        name: score_model(member, codes, tables, year.ma_coding_adjustment, mce_edits=mce_edits)
        for name, tables in year.models.items()
    }
    blended = sum(
        models[name].adjusted * tables.blend_weight for name, tables in year.models.items()
    )
    return MemberScore(member.member_id, year.year, models, blended)
