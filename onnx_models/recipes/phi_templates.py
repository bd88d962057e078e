"""Sentence templates of the synthetic PHI corpus, and the note headers.

PHI sentences are registered with ``@sentence``, hard negatives with ``@negative``;
``phi_corpus.generate`` composes notes from them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from onnx_models.recipes.phi_lexicon import (
    DEVICES,
    DRUGS,
    EPONYMS,
    GENERIC_PLACES,
    LABS,
    TIMES,
    VITALS,
)
from onnx_models.recipes.phi_values import ValueFactory

Part = str | tuple[str, str]  # literal text, or (value, subtype)
Template = Callable[[ValueFactory, random.Random], list[Part]]
SENTENCES: list[Template] = []
NEGATIVES: list[Template] = []


def sentence(fn: Template) -> Template:
    SENTENCES.append(fn)
    return fn


def negative(fn: Template) -> Template:
    NEGATIVES.append(fn)
    return fn


def _split_of(fn: Template) -> str:
    """A fixed quarter of the templates is held out for the test split."""
    digest = hashlib.sha256(fn.__name__.encode()).digest()[0]
    return "test" if digest % 4 == 0 else "train"


def _dr(v: ValueFactory, rng: random.Random) -> list[Part]:
    title = rng.choice(["Dr. ", "Dr ", "DR ", "Dr. ", "Doctor "])
    return [title, (v.person(), "DOCTOR")]


def _neg(rng: random.Random) -> str:
    return rng.choice(
        [
            rng.choice(DRUGS),
            rng.choice(VITALS),
            rng.choice(LABS),
            rng.choice(EPONYMS),
            rng.choice(DEVICES),
        ]
    )


# --------------------------------------------------------------------- PHI sentences
@sentence
def s_pt_intro(v, r):
    return [
        (v.person(), "PATIENT"),
        f" is a {v.young_age()} yo {r.choice(['M', 'F', 'man', 'woman'])} "
        f"with {r.choice(EPONYMS)} admitted on ",
        (v.date(), "DATE"),
        ".",
    ]


@sentence
def s_pt_label(v, r):
    return [
        r.choice(["Patient: ", "Name: ", "PATIENT NAME: ", "Pt name: "]),
        (v.person(), "PATIENT"),
        r.choice(["\n", "  ", "; "]),
        r.choice(["MRN: ", "MR#", "Med Rec #: "]),
        (v.identifier("MRN"), "MRN"),
    ]


@sentence
def s_seen_by(v, r):
    return ["Seen and examined with ", *_dr(v, r), " on ", (v.date(), "DATE"), "."]


@sentence
def s_mr_mrs(v, r):
    return [
        r.choice(["Mr. ", "Mrs. ", "Ms. ", "Miss "]),
        (v.last(), "PATIENT"),
        f" tolerated the procedure well; {_neg(r)}.",
    ]


@sentence
def s_family(v, r):
    rel = r.choice(["wife", "husband", "daughter", "son", "sister", "brother", "mother", "HCP"])
    return [
        f"Spoke with {rel} ",
        (v.person(), "RELATIVE"),
        " at ",
        (v.phone(), "PHONE"),
        ", who agrees with the plan.",
    ]


@sentence
def s_followup(v, r):
    return [
        "Follow up with ",
        *_dr(v, r),
        " at ",
        (v.hospital(), "HOSPITAL"),
        " in 2 weeks; call ",
        (v.phone(), "PHONE"),
        " to schedule.",
    ]


@sentence
def s_transfer(v, r):
    return [
        "Transferred from ",
        (v.hospital(), "HOSPITAL"),
        " on ",
        (v.date(), "DATE"),
        f" for {r.choice(['NSTEMI', 'sepsis', 'GI bleed', 'stroke workup', 'CHF exacerbation'])}.",
    ]


@sentence
def s_lives(v, r):
    return [
        "Lives at ",
        (v.street(), "STREET"),
        ", ",
        (v.city(), "CITY"),
        ", ",
        (v.state(), "STATE"),
        " ",
        (v.zip(), "ZIP"),
        f" with {r.choice(['wife', 'son', 'alone'])}.",
    ]


@sentence
def s_from_city(v, r):
    return [
        f"Originally from {''}",
        (v.city(), "CITY"),
        ", ",
        (v.country(), "COUNTRY"),
        "; moved here in ",
        (str(r.randint(1970, 2020)), "YEAR_NOT_PHI"),
        ".",
    ]


@sentence
def s_works(v, r):
    return [
        "Works as a ",
        (v.profession(), "PROFESSION"),
        " at ",
        (v.organization(), "ORGANIZATION"),
        ".",
    ]


@sentence
def s_old_age(v, r):
    return [
        r.choice(["", "Pt is a "]),
        (v.old_age(), "AGE"),
        r.choice([" yo ", "-year-old ", " y/o ", " year old "]),
        f"{r.choice(['female', 'male', 'woman', 'man'])} with {r.choice(EPONYMS)}.",
    ]


@sentence
def s_ids(v, r):
    kind, label = r.choice(
        [
            ("MRN", "MRN"),
            ("ACCOUNT", "ACCOUNT"),
            ("HEALTHPLAN", "HEALTHPLAN"),
            ("LICENSE", "LICENSE"),
            ("SSN", "SSN"),
            ("IDNUM", "IDNUM"),
        ]
    )
    words = {
        "MRN": ["MRN", "MRN#", "medical record number"],
        "ACCOUNT": ["Acct #", "account"],
        "HEALTHPLAN": ["Medicaid ID", "insurance ID", "member ID", "policy #"],
        "LICENSE": ["license #", "DEA #", "NPI"],
        "SSN": ["SSN", "social security number"],
        "IDNUM": ["patient ID", "study ID", "accession #"],
    }
    return [f"{r.choice(words[kind])} ", (v.identifier(kind), label), "."]


@sentence
def s_contact(v, r):
    name = v.first()
    return [
        "Contact: ",
        (name, "PATIENT"),
        " ",
        (v.email(name), "EMAIL"),
        r.choice([", ", " / "]),
        (v.phone(), "PHONE"),
    ]


@sentence
def s_fax(v, r):
    return ["Please fax records to ", (v.hospital(), "HOSPITAL"), " at ", (v.phone(), "FAX"), "."]


@sentence
def s_portal(v, r):
    return [
        "Results released to the patient portal ",
        (v.url(), "URL"),
        " from workstation ",
        (v.ip(), "IP_ADDRESS"),
        ".",
    ]


@sentence
def s_signed(v, r):
    cred = r.choice([", MD", " MD", ", RN", " RN", ", NP", ", PA-C", ", DO"])
    return [
        r.choice(["Electronically signed by ", "Signed: ", "Dictated by: ", "-- ", ""]),
        (v.person(), "DOCTOR"),
        f"{cred} ",
        (v.date(), "DATE"),
    ]


@sentence
def s_cc(v, r):
    return ["cc: ", *_dr(v, r), "; ", (v.person(), "DOCTOR"), ", MD"]


@sentence
def s_device_vehicle(v, r):
    return [
        "Pacemaker serial ",
        (v.identifier("DEVICE"), "DEVICE"),
        "; drove in car plate ",
        (v.identifier("VEHICLE"), "VEHICLE"),
        ".",
    ]


@sentence
def s_holiday(v, r):
    return [f"Symptoms began around {''}", (v.date(), "DATE"), f"; {_neg(r)}."]


@sentence
def s_username(v, r):
    user = (v.first()[0] + v.last()).lower().replace("'", "").replace(" ", "")[:10]
    return ["Note entered by user ", (user, "USERNAME"), " at 0830."]


@sentence
def s_question(v, r):
    return [
        f"What is the best {r.choice(['management', 'workup', 'antibiotic choice'])} for ",
        (v.person(), "PATIENT"),
        f", a {v.young_age()}-year-old seen at ",
        (v.hospital(), "HOSPITAL"),
        " on ",
        (v.date(), "DATE"),
        r.choice([", MRN ", ", MRN: ", " (MRN# "]),
        (v.identifier("MRN"), "MRN"),
        r.choice(["?", ")?"]),
    ]


@sentence
def s_question2(v, r):
    return [
        f"tx options for pt {v.young_age()}{r.choice(['yo', ' y/o'])} w/ {r.choice(EPONYMS)}, "
        "seen by ",
        *_dr(v, r),
        " in ",
        (v.city(), "CITY"),
        " on ",
        (v.date(), "DATE"),
        "?",
    ]


@sentence
def s_radiology(v, r):
    return [
        "COMPARISON: ",
        (v.date(), "DATE"),
        ". Study read by ",
        *_dr(v, r),
        " at ",
        (v.hospital(), "HOSPITAL"),
        ".",
    ]


@sentence
def s_pathology(v, r):
    return [
        "Specimen ",
        (v.identifier("IDNUM"), "IDNUM"),
        " received ",
        (v.date(), "DATE"),
        "; grossed by ",
        (v.person(), "DOCTOR"),
        ".",
    ]


@sentence
def s_telephone(v, r):
    return [
        "Pt called ",
        (v.date(), "DATE"),
        " from ",
        (v.phone(), "PHONE"),
        f" re: refill of {r.choice(DRUGS)}; ",
        (v.first(), "PATIENT"),
        " aware.",
    ]


@sentence
def s_referral(v, r):
    return [
        "Dear ",
        *_dr(v, r),
        ",\nThank you for referring ",
        (v.person(), "PATIENT"),
        ", DOB ",
        (v.date(), "DATE"),
        ", to our clinic.",
    ]


@sentence
def s_nursing(v, r):
    return [
        f"NPN: PT ALERT, {r.choice(VITALS)}. FAMILY ",
        (v.first(), "RELATIVE"),
        " AT BEDSIDE. ",
        *_dr(v, r),
        " AWARE.",
    ]


@sentence
def s_name_alone(v, r):
    return [(v.last(), "PATIENT"), f" remains on {r.choice(DRUGS)}; {r.choice(LABS)}."]


@sentence
def s_nursing_home(v, r):
    return [
        "Returns to ",
        (f"{v.last()} {r.choice(['Nursing Home', 'Manor', 'Gardens', 'Rehab'])}", "LOCATION_OTHER"),
        " on ",
        (v.date(), "DATE"),
        ".",
    ]


# --------------------------------------------------------------------- hard negatives
@negative
def n_eponym(v, r):
    return [f"History of {r.choice(EPONYMS)} and {r.choice(EPONYMS)}; on {r.choice(DRUGS)}."]


@negative
def n_vitals(v, r):
    return [f"{r.choice(VITALS)}, {r.choice(VITALS)}, {r.choice(LABS)}, {r.choice(LABS)}."]


@negative
def n_young_age(v, r):
    return [
        f"{v.young_age()} yo {r.choice(['M', 'F'])} with {r.choice(EPONYMS)}, "
        f"diagnosed in {r.randint(1980, 2023)}."
    ]


@negative
def n_places(v, r):
    return [
        f"Transferred from {r.choice(GENERIC_PLACES)} to {r.choice(GENERIC_PLACES)} "
        f"{r.choice(TIMES)}; {r.choice(DEVICES)} in place."
    ]


@negative
def n_doses(v, r):
    return [
        f"Given {r.choice(DRUGS)} {r.choice(TIMES)}, then {r.choice(DRUGS)}; "
        f"{r.choice(['GCS 15', 'pain 5/10', 'Wells score 2', 'CURB-65 of 2'])}."
    ]


@negative
def n_plan(v, r):
    return [
        f"Plan: continue {r.choice(DRUGS)}, {r.choice(['repeat', 'trend', 'check'])} "
        f"{r.choice(LABS).split()[0]} in AM, PT/OT eval, d/c {r.choice(DEVICES)} when able."
    ]


@negative
def n_question(v, r):
    return [
        f"What is the first-line treatment for {r.choice(EPONYMS)} in a {v.young_age()}-year-old "
        f"with {r.choice(LABS)} seen last {r.choice(['week', 'month', 'summer'])}?"
    ]


HEADERS = {
    "discharge": ["DISCHARGE SUMMARY\n", "Discharge Summary\n\n", "D/C SUMMARY:\n"],
    "progress": ["Progress Note\n", "PROGRESS NOTE - ", "SOAP note:\n"],
    "icu": ["MICU Attending Note\n", "ICU NURSING NOTE 0700-1900\n", "CCU progress:\n"],
    "radiology": ["EXAM: CT CHEST W/O CONTRAST\n", "CXR PA/LAT\nFINDINGS: ", "MRI BRAIN\n"],
    "pathology": ["SURGICAL PATHOLOGY REPORT\n", "Cytology:\n"],
    "referral": ["Referral letter\n\n", "Re: consultation\n"],
    "telephone": ["Telephone encounter: ", "Phone note - "],
    "question": [""],
}
