"""Real clinical prose as the carrier of synthetic PHI, and terse ICU and nursing notes.

The template corpus (``phi_corpus``) teaches what PHI looks like; this one
teaches what clinical language looks like when it is *not* PHI. Each record is
a run of real, PHI-free clinical sentences with fictional PHI put where real
notes carry it: sign-offs, "d/w Dr X", family at the bedside, transfers from
and to a facility, unit and hospital abbreviations, call-back numbers, dates
in ``m/d``, ``m/yy`` and ``mm-dd`` forms, and the patient's name as the subject
of a sentence ("Smith remains on heparin").

Carrier text comes from training splits only (``load_carriers``), less one document
in ten (``in_calibration_slice``), which calibration reads instead:
- CodiEsp-EN train (case reports, one sentence a line);
- the NCBI-disease and BC5CDR train sentences;
- ACI-Bench visit notes, except every fifth note (``ACI_HELD_OUT``), which is
  kept apart for the ACI-Bench target.
ACI-Bench's names, dates and places are fictional but unlabelled, and the case
reports name real hospitals and dates, so from every source a line that may
hold one (a capitalised word after the first, a title, a numeric date, a year
or a month name) is dropped before any line becomes a carrier.

CodiEsp-EN dev and every ``*_sent/dev`` split are never read: they are reported.
``icu_note`` writes system-by-system notes (``NEURO:`` ``CV:`` …) with drips,
doses, vitals, lab shorthand, ``@``, ``&``, ``+/-``, missing spaces after
periods, in lower case and ALL CAPS too.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from onnx_models.recipes.phi_values import ValueFactory

Part = str | tuple[str, str]  # literal text, or (value, subtype)

ACI_HELD_OUT = 5  # every fifth ACI-Bench note (by position) is never a carrier
# One document in ten of each train split (by a hash of its document id) is never a
# carrier either: bench/calibrate_guards.py measures over-redaction on it, text the
# model has not been trained on.
CALIBRATION_SLICE = 10


def in_calibration_slice(record: dict) -> bool:
    """Whether a train record's document is kept apart for calibration."""
    document = str(record.get("doc_id") or record["id"])
    return int(hashlib.sha256(document.encode("utf-8")).hexdigest(), 16) % CALIBRATION_SLICE == 0


_TITLE = re.compile(r"\b(?:dr|mr|mrs|ms|miss|prof)\b\.?", re.IGNORECASE)
_DATE_LIKE = re.compile(
    r"\d{1,4}\s*[/-]\s*\d{1,2}|\b(?:19|20)\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
    r"|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Carriers:
    """PHI-free sentences to carry synthetic PHI, by source."""

    sentences: dict[str, list[str]]


def line_is_clean(line: str) -> bool:
    """Whether a line can carry PHI of ours: it must hold none of its own, labelled or not
    (an unlabelled real date or hospital would teach the model that it is no PHI)."""
    stripped = line.strip()
    if not stripped or _TITLE.search(stripped) or _DATE_LIKE.search(stripped):
        return False
    # A capitalised word after the first one may be a name or a place.
    words = stripped.split()
    return not any(w[:1].isupper() and w[1:2].islower() for w in words[1:])


def load_carriers(shared: Path) -> Carriers:
    data = shared / "data"

    def sentences_of(path: Path) -> list[str]:
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if in_calibration_slice(record):
                continue
            text = record["text"]
            out.extend(
                s.strip() for s in text.split("\n") if len(s.strip()) > 20 and line_is_clean(s)
            )
        return out

    aci_lines = []
    for index, line in enumerate((data / "aci_bench_notes.jsonl").read_text().splitlines()):
        if index % ACI_HELD_OUT == 0:
            continue  # held apart for the ACI-Bench target
        for text_line in json.loads(line)["text"].split("\n"):
            if len(text_line.strip()) > 20 and line_is_clean(text_line):
                aci_lines.append(text_line.strip())
    return Carriers(
        {
            "codiesp": sentences_of(data / "codiesp_train_en.jsonl"),
            "ncbi": sentences_of(data / "ner" / "ncbi_disease_sent" / "train.jsonl"),
            "bc5cdr": sentences_of(data / "ner" / "bc5cdr_sent" / "train.jsonl"),
            "aci": aci_lines,
        }
    )


# ------------------------------------------------------------------ PHI where notes carry it
def _doctor(v: ValueFactory, r: random.Random) -> list[Part]:
    return [
        r.choice(["Dr. ", "Dr ", "DR ", "dr "]),
        (v.person() if r.random() < 0.5 else v.last(), "DOCTOR"),
    ]


def _short_date(v: ValueFactory, r: random.Random) -> str:
    m, d, y = r.randint(1, 12), r.randint(1, 28), r.randint(10, 30)
    return r.choice([f"{m}/{d}", f"{m}/{y:02d}", f"{m:02d}-{d:02d}", f"{m}/{d}/{y:02d}", v.date()])


def _facility_abbreviation(r: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVW"
    return "".join(r.choice(letters) for _ in range(r.randint(2, 5))) + r.choice(
        ["", "", "H", "MC"]
    )


INSERTS = [
    lambda v, r: ["d/w ", *_doctor(v, r), r.choice([" who agrees.", ", agrees w/ plan.", "."])],
    lambda v, r: [r.choice(["Discussed with ", "Case reviewed with "]), *_doctor(v, r), "."],
    lambda v, r: [
        r.choice(["Daughter ", "Son ", "Wife ", "Husband ", "HCP "]),
        (v.first(), "RELATIVE"),
        r.choice([" at bedside.", " updated by phone.", " visited, questions answered."]),
    ],  # fmt: skip
    lambda v, r: [
        "Family (",
        r.choice(["sister ", "brother ", "niece "]),
        (v.person(), "RELATIVE"),
        ") at bedside.",
    ],  # fmt: skip
    lambda v, r: [
        r.choice(["Transferred from ", "Transfer from ", "Pt came from ", "xfer from "]),
        (_facility_abbreviation(r), "HOSPITAL"),
        r.choice([" for higher level of care.", "."]),
    ],  # fmt: skip
    lambda v, r: [
        r.choice(["Will transfer to ", "Accepted at ", "D/c to "]),
        (v.hospital(), "HOSPITAL"),
        r.choice([" tomorrow.", " when bed available.", "."]),
    ],  # fmt: skip
    lambda v, r: ["Records requested from ", (v.hospital(), "HOSPITAL"), "."],
    lambda v, r: [
        r.choice(["Call back ", "Please call ", "Pager "]),
        (v.phone(), "PHONE"),
        r.choice([" with results.", " if questions.", "."]),
    ],  # fmt: skip
    lambda v, r: [
        r.choice(["Seen ", "Last seen ", "F/u ", "Next appt "]),
        (_short_date(v, r), "DATE"),
        ".",
    ],
    lambda v, r: [
        r.choice(["Admitted ", "Adm ", "Surgery on ", "Echo "]),
        (_short_date(v, r), "DATE"),
        r.choice([", stable since.", "."]),
    ],  # fmt: skip
    lambda v, r: [
        r.choice(["Lives in ", "From "]),
        (v.city(), "CITY"),
        r.choice([" with family.", "."]),
    ],
    lambda v, r: [r.choice(["MRN ", "MR# ", "Acct "]), (v.identifier("MRN"), "MRN"), "."],
    lambda v, r: [(v.person(), "DOCTOR"), r.choice([", MD", ", RN", ", NP", " MD"]), "\n"],
    lambda v, r: [
        r.choice(["Signed: ", "Electronically signed by ", "-- "]),
        (v.person(), "DOCTOR"),
    ],
    lambda v, r: [
        "Pt ",
        (v.last(), "PATIENT"),
        r.choice([" resting comfortably.", " c/o pain.", " OOB to chair."]),
    ],
]


# A carrier line whose subject is the patient ("He remains on heparin.", "The patient
# tolerated the procedure.") takes a name as its subject half the time: real notes
# write "Smith remains on heparin", and carriers whose subjects are never names
# teach the model that a word in that slot never is (2.0f, trained without this,
# missed such names that 1.0 found; bench/phi_suite/v2f_candidate.md).
_PATIENT_SUBJECT = re.compile(r"^(?:the patient|patient|pt|he|she)\b", re.IGNORECASE)
SUBJECT_NAME_RATE = 0.5


def _subject_name(v: ValueFactory, r: random.Random) -> list[Part]:
    form = r.randrange(4)
    if form == 0:
        return [(v.last(), "PATIENT")]
    if form == 1:
        return [(v.person(), "PATIENT")]
    if form == 2:
        return [(v.first(), "PATIENT")]
    return [r.choice(["Mr. ", "Mrs. ", "Ms. ", "Pt "]), (v.last(), "PATIENT")]


def with_subject_name(line: str, v: ValueFactory, r: random.Random) -> list[Part]:
    """``line`` as parts, its patient subject replaced by a name at SUBJECT_NAME_RATE."""
    subject = _PATIENT_SUBJECT.match(line)
    if subject is None or r.random() >= SUBJECT_NAME_RATE:
        return [line]
    return [*_subject_name(v, r), line[subject.end() :]]


# ------------------------------------------------------------------ terse ICU and nursing notes
def _vitals(r: random.Random) -> str:
    return r.choice(
        [
            f"T {r.uniform(96.5, 101.5):.1f} HR {r.randint(55, 125)} BP {r.randint(85, 170)}/"
            f"{r.randint(40, 95)} RR {r.randint(12, 30)} SpO2 {r.randint(88, 100)}%",
            f"VS: {r.uniform(97, 100):.1f} {r.randint(60, 110)} {r.randint(95, 160)}/"
            f"{r.randint(50, 90)} {r.randint(14, 24)} {r.randint(92, 100)}%RA",
            f"afebrile, HR {r.randint(60, 100)}s, SBP {r.randint(9, 15)}0s",
            f"Tmax {r.uniform(99, 102):.1f}, hemodynamically stable",
        ]
    )


_SYSTEMS = {
    "NEURO": [
        lambda r: f"A&Ox{r.randint(1, 3)}, MAE, PERRLA",
        lambda r: f"sedated on propofol {r.randint(10, 50)} mcg/kg/min, RASS {r.randint(-3, 0)}",
        lambda r: (
            f"GCS {r.randint(8, 15)}, follows commands, strength {r.randint(3, 5)}/5 throughout"
        ),
        lambda r: "no acute events overnight, pain controlled w/ tylenol",
    ],
    "CV": [
        lambda r: f"NSR {r.randint(60, 100)}s, {r.choice(['no', '2/6 SEM', 'no'])} murmur",
        lambda r: f"on levophed {r.uniform(0.02, 0.2):.2f} mcg/kg/min, weaning as tol",
        lambda r: f"K {r.uniform(3.2, 5.1):.1f} repleted, Mg {r.uniform(1.5, 2.4):.1f}",
        lambda r: "+2 pedal edema bilat, pulses palpable",
    ],
    "RESP": [
        lambda r: f"on {r.randint(2, 6)}L NC, sats {r.randint(90, 99)}%, LS clear bilat",
        lambda r: (
            f"vent AC {r.randint(400, 550)}x{r.randint(12, 22)} PEEP {r.randint(5, 12)} "
            f"FiO2 {r.choice([30, 40, 50])}%"
        ),
        lambda r: "coarse rhonchi RLL, sxn for thick tan secretions",
        lambda r: "CXR w/ improving b/l infiltrates",
    ],
    "GI": [
        lambda r: "abd soft NT ND +BS, tol TF @ goal",
        lambda r: f"TF @ {r.randint(20, 70)} cc/hr via OGT, residuals <{r.randint(50, 200)}",
        lambda r: "BM x1 loose, cdiff sent",
        lambda r: "NPO after MN for procedure",
    ],
    "GU": [
        lambda r: f"foley draining clear yellow urine, UOP {r.randint(20, 120)} cc/hr",
        lambda r: (
            f"Cr {r.uniform(0.6, 3.5):.1f} from {r.uniform(0.6, 3.5):.1f}, "
            f"I/O +{r.randint(100, 2000)}"
        ),
    ],
    "ID": [
        lambda r: (
            f"Tmax {r.uniform(99, 102):.1f}, WBC {r.uniform(4, 22):.1f}, "
            f"on vanc & zosyn day {r.randint(1, 10)}"
        ),
        lambda r: "cx pending, no growth to date",
    ],
    "SKIN": [
        lambda r: "sacral stage 2 pressure injury, dsg c/d/i",
        lambda r: "skin intact, turned q2h",
    ],
    "SOCIAL": [lambda r: "family updated, full code", lambda r: "pt is DNR/DNI per HCP"],
    "PLAN": [
        lambda r: "cont current mgmt, f/u am labs",
        lambda r: f"wean levo to MAP >{r.choice([60, 65])}, SBT in am",
        lambda r: "possible transfer to floor tomorrow +/- PT eval",
    ],
}


def icu_note(v: ValueFactory, r: random.Random) -> list[Part]:
    parts: list[Part] = [
        r.choice(["Nursing progress note", "MICU NPN", "ICU progress note", "Events:"]),
        "\n",
    ]
    for system in r.sample(list(_SYSTEMS), r.randint(4, len(_SYSTEMS))):
        fragments = r.sample(_SYSTEMS[system], r.randint(1, len(_SYSTEMS[system])))
        sep = r.choice([". ", ".", "; ", ", "])  # "." alone: no space after periods
        parts.append(f"{system}: " + sep.join(f(r) for f in fragments) + ".\n")
        if r.random() < 0.35:
            parts.extend([*r.choice(INSERTS)(v, r), "\n"])
    parts.append(_vitals(r) + "\n")
    return parts


# ------------------------------------------------------------------ records
def _render(parts: list[Part], style: str) -> dict[str, object]:
    chunks, spans, length = [], [], 0
    for part in parts:
        value, label = part if isinstance(part, tuple) else (part, None)
        value = value.upper() if style == "upper" else value.lower() if style == "lower" else value
        if label is not None:
            spans.append({"start": length, "end": length + len(value), "label": label})
        chunks.append(value)
        length += len(value)
    return {"text": "".join(chunks), "spans": spans}


def carrier_notes(carriers: Carriers, n_notes: int, seed: int) -> list[dict[str, object]]:
    """``n_notes`` records, deterministic for ``seed``: real carrier sentences with PHI
    inserted between them, and one ICU or nursing note in four."""
    r = random.Random(seed)
    values = ValueFactory(seed)
    sources = sorted(name for name, lines in carriers.sentences.items() if lines)
    records = []
    for index in range(n_notes):
        if r.random() < 0.25:
            parts = icu_note(values, r)
        else:
            lines = carriers.sentences[r.choice(sources)]
            start = r.randrange(len(lines))
            chosen = lines[start : start + r.randint(2, 8)]
            parts = []
            for position, line in enumerate(chosen):
                parts.extend([*with_subject_name(line, values, r), r.choice([" ", " ", "\n"])])
                if r.random() < 0.45 or position == len(chosen) - 1:
                    parts.extend([*r.choice(INSERTS)(values, r), r.choice([" ", "\n"])])
        style = r.choices(["normal", "lower", "upper"], weights=[70, 18, 12])[0]
        records.append({"id": f"carrier-{seed}-{index}", **_render(parts, style)})
    return records
