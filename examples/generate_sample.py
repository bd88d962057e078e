"""Generate examples/sample_notes.csv: 50 synthetic notes with fictional PHI.

Every name, date, number and place here is invented for deidcode. The notes
vary in style (discharge summaries, progress notes, ALL-CAPS nursing notes,
radiology reports, telephone encounters, referral letters, terse lowercase
notes) so the sample exercises the detectors the way real exports do. Two
records are deliberately bad (a blank text and a duplicate note_id) so that a
run on the sample shows quarantine at work. Structured columns (MRN, patient
name, birth date, ZIP, admission date, a free-text comment) exercise the
column policies of ``input.column_policies``.

Run: python examples/generate_sample.py  (deterministic; rewrites the CSV)
"""

from __future__ import annotations

import calendar
import csv
import random
from pathlib import Path

PATIENTS = [
    ("P0001", "Marguerite", "Okonkwo-Hale", "F"),
    ("P0002", "Desmond", "Achterberg", "M"),
    ("P0003", "Lucia", "Ferreira-Nakamura", "F"),
    ("P0004", "Bartholomew", "O'Sullivan", "M"),
    ("P0005", "Ingrid", "Vasquez", "F"),
    ("P0006", "Theodore", "McAllister", "M"),
    ("P0007", "Priyanka", "Raghunathan", "F"),
    ("P0008", "Cornelius", "Whitlock", "M"),
    ("P0009", "Anneliese", "Brandvold", "F"),
    ("P0010", "Rafael", "Quintanilla", "M"),
    ("P0011", "Odessa", "Pemberton", "F"),
    ("P0012", "Lionel", "Baptiste", "M"),
]
DOCTORS = [
    "Harriet Lindqvist",
    "Samuel Oyelaran",
    "Beatrix Castellano",
    "Mortimer Feng",
    "Yolanda Driscoll",
    "Ezekiel Park",
]
NURSES = ["Tamsin Greer", "Wendell Abara", "Josefina Lutz"]
CITIES = [
    ("Brookhaven", "MA", "01742"),
    ("Millbrook", "NY", "12545"),
    ("Cedar Falls", "IA", "50613"),
    ("Port Alder", "WA", "98368"),
]
STREETS = ["14 Juniper Lane", "902 Harbor View Road", "37 Wexford Street", "5510 Old Mill Drive"]
HOSPITALS = ["St. Brigid Regional Hospital", "Lakeshore Memorial Medical Center"]


def phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"


def mrn(rng: random.Random) -> str:
    return f"{rng.randint(10_000_000, 99_999_999)}"


def discharge(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    age = rng.randint(40, 88)
    return (
        f"DISCHARGE SUMMARY\n\nPatient: {first} {last}\nMRN: {mrn(rng)}\n"
        f"Admission Date: {date}\nDischarge Date: {date2}\nAttending: Dr. {dr}\n\n"
        f"HISTORY OF PRESENT ILLNESS: Mr./Ms. {last} is a {age}-year-old with type 2 diabetes "
        f"mellitus and chronic kidney disease stage 3 who presented to {rng.choice(HOSPITALS)} "
        f"with shortness of breath. Denies chest pain. No fever.\n\n"
        f"HOSPITAL COURSE: Diuresed with IV furosemide 40 mg BID. Foley catheter removed on day 2. "
        f"Echo showed EF 35%.\n\nDISPOSITION: Home with services in {city[0]}, {city[1]} {city[2]}."
        f"\nFollow-up with Dr. {dr.split()[1]} in 2 weeks; clinic phone {phone(rng)}.\n\n"
        f"Electronically signed by {dr}, MD on {date2}"
    )


def progress(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    return (
        f"Progress Note - {date}\n\nS: {first} reports improved energy since the last visit "
        f"on {date2}. Pain 3/10 in the left knee. Taking metformin 500 mg BID.\n"
        f"O: BP 138/84, HR 76, SpO2 97% RA. Lungs clear.\n"
        f"A/P: 1. Hypertension - continue lisinopril 10 mg daily. 2. Osteoarthritis of knee - "
        f"PT referral. 3. History of Parkinson disease in father; no tremor.\n"
        f"RTC 3 months.\n\n{dr}, MD"
    )


def nursing_caps(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    nurse = rng.choice(NURSES)
    return (
        f"NPN 0700-1900: PT {last.upper()} ALERT AND ORIENTED X3. HR 100-110'S ST, BP STABLE. "
        f"LUNGS COARSE, SUCTIONED X2 FOR THICK WHITE SECRETIONS. FOLEY PATENT, UO 40-60CC/HR. "
        f"FAMILY (DAUGHTER {rng.choice(['ROSALIND', 'GWENDOLYN', 'MAREK'])}) CALLED, UPDATED. "
        f"PLAN: CONT CURRENT MGMT, DR {dr.split()[1].upper()} AWARE.\n{nurse.upper()} RN"
    )


def radiology(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    return (
        f"EXAM: CT CHEST WITHOUT CONTRAST\nDATE OF SERVICE: {date}\n"
        f"PATIENT NAME: {last.upper()}, {first.upper()}\n"
        f"ACCESSION #: RA{rng.randint(100000, 999999)}"
        f"\n\nCOMPARISON: CT {date2}.\nFINDINGS: 6 mm nodule in the right upper lobe, unchanged. "
        f"No pleural effusion. Mild emphysema.\nIMPRESSION: Stable pulmonary nodule. Recommend "
        f"follow-up CT in 12 months per Fleischner criteria.\n\nDictated by: Dr. {dr}\n"
        f"Transcribed by: {rng.choice(NURSES)}"
    )


def telephone(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    return (
        f"Telephone encounter {date}. Spoke with pt's wife who called from {phone(rng)} "
        f"regarding {first}'s refill of apixaban 5 mg. Verified DOB {date2}. Last INR n/a. "
        f"Refill sent to pharmacy. Pt may 2nd dose tonight per Dr. {dr.split()[1]}. "
        f"Callback number confirmed; email on file "
        f"{first.lower()}.{last.lower().replace(chr(39), '')}@mailbox.example.com"
    )


def referral(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    street = rng.choice(STREETS)
    return (
        f"{rng.choice(HOSPITALS)}\nDepartment of Cardiology\n{street}\n{city[0]}, {city[1]} "
        f"{city[2]}\nTel {phone(rng)}  Fax: {phone(rng)}\n\n{date}\n\nDear Dr. "
        f"{rng.choice(DOCTORS).split()[1]},\n\nThank you for referring {first} {last}, "
        f"a patient with atrial fibrillation and heart failure with reduced ejection fraction "
        f"(I50.22). We saw Mrs. {last} on {date2}. She is now on metoprolol succinate 50 mg daily."
        f"\n\nSincerely,\n{dr}, MD\ncc: Dr. {rng.choice(DOCTORS)}"
    )


def terse_lower(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    return (
        f"pt seen in clinic {date.lower()}. c/o cough x 2wk, no fevers. hx copd, "
        f"former smoker 40 pk-yr. exam: scattered wheezes. plan: prednisone burst, "
        f"albuterol prn, cxr. f/u 1 mo. acct # {rng.randint(1000000, 9999999)}. "
        f"addr 2nd contact: {rng.choice(STREETS)}, {city[0]}, {city[1]} {city[2]}"
    )


def icu(rng, pt, dr, date, date2, city):
    pid, first, last, sex = pt
    return (
        f"ICU Attending Note {date}\n{first} {last} ({sex}, aged {rng.choice([91, 93, 95])}) "
        f"remains intubated for septic shock from a urinary source. Norepinephrine weaning. "
        f"Cr 2.1 from 1.4. Family meeting with son held {date2}; code status full. "
        f"Encounter #: E{rng.randint(1000000, 9999999)}. "
        f"IP of bedside monitor 10.20.{rng.randint(1, 254)}.7"
    )


STYLES = [discharge, progress, nursing_caps, radiology, telephone, referral, terse_lower, icu]
NOTE_TYPES = {
    discharge: "discharge_summary",
    progress: "progress_note",
    nursing_caps: "nursing_note",
    radiology: "radiology_report",
    telephone: "telephone_encounter",
    referral: "referral_letter",
    terse_lower: "progress_note",
    icu: "icu_note",
}
DATE_STYLES = [
    "{m:02d}/{d:02d}/{y}",
    "{mon} {d}, {y}",
    "{d}-{mon3}-{y}",
    "{y}-{m:02d}-{d:02d}",
    "{m}/{d}",
]
MONTHS = list(calendar.month_name)[1:]


def fmt_date(rng: random.Random) -> tuple[str, str]:
    y, m, d = rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.choice(DATE_STYLES)
    text = style.format(y=y, m=m, d=d, mon=MONTHS[m - 1], mon3=MONTHS[m - 1][:3])
    return text, f"{y}-{m:02d}-{d:02d}"


def patient_columns(rng: random.Random) -> dict[str, dict[str, str]]:
    """Fixed per patient: MRN, name as a registration system writes it, birth date, ZIP."""
    columns = {}
    for patient_id, first, last, _ in PATIENTS:
        year = rng.randint(1928, 1990)
        columns[patient_id] = {
            "mrn": mrn(rng),
            "patient_name": f"{last.upper()}, {first.upper()}",
            "birth_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "zip": rng.choice(CITIES)[2],
        }
    return columns


def comment(rng: random.Random, pt: tuple[str, str, str, str]) -> str:
    """A free-text column: sometimes blank, sometimes with PHI."""
    return rng.choice(
        [
            "",
            "no concerns",
            f"Spoke with {pt[1]} about follow-up; call back at {phone(rng)}.",
            f"{pt[2]} family requests copies of records.",
        ]
    )


def main() -> None:
    rng = random.Random(20261121)
    # A separate generator for the structured columns keeps the note texts as they were.
    column_rng = random.Random(20261122)
    by_patient = patient_columns(column_rng)
    rows = []
    for index in range(48):
        pt = PATIENTS[index % len(PATIENTS)]
        style = STYLES[index % len(STYLES)]
        date, iso = fmt_date(rng)
        date2, _ = fmt_date(rng)
        text = style(rng, pt, rng.choice(DOCTORS), date, date2, rng.choice(CITIES))
        rows.append(
            {
                "note_id": f"N{index + 1:04d}",
                "patient_id": pt[0],
                "encounter_id": f"E{rng.randint(100000, 999999)}",
                "note_date": iso,
                "note_type": NOTE_TYPES[style],
                "author": rng.choice(DOCTORS),
                "department": rng.choice(["cardiology", "medicine", "icu", "radiology"]),
                **by_patient[pt[0]],
                "admission_date": f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}",
                "comment": comment(column_rng, pt),
                "text": text,
            }
        )
    # Two bad records, so a run on the sample shows quarantine.
    rows.append({**rows[0], "note_id": "N0049", "text": "   "})
    rows.append({**rows[5], "text": rows[5]["text"] + "\nAddendum: reviewed."})
    path = Path(__file__).with_name("sample_notes.csv")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} notes to {path}")


if __name__ == "__main__":
    main()
