"""Fictional PHI values and hard negatives for the synthetic training corpus.

Every value is generated: names, places and streets from Faker across many
locales, numbers and dates from a seeded random generator. Nothing here comes
from a real record.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import string

from faker import Faker

LOCALES = [
    "en_US",
    "en_GB",
    "en_IE",
    "en_IN",
    "en_AU",
    "es_ES",
    "es_MX",
    "fr_FR",
    "de_DE",
    "it_IT",
    "pt_BR",
    "nl_NL",
    "pl_PL",
    "tr_TR",
    "sv_SE",
    "fi_FI",
    "cs_CZ",
    "ro_RO",
    "hu_HU",
    "da_DK",
    "no_NO",
    "en_NZ",
    "fil_PH",
    "id_ID",
    "sw",
    "yo_NG",
    "vi_VN",
]
# Surnames that are also ordinary words: the model must read context, not the word.
WORD_SURNAMES = [
    "Baker",
    "Brown",
    "White",
    "Young",
    "Hall",
    "Wood",
    "Cook",
    "Bell",
    "Price",
    "Rose",
    "Hope",
    "Lane",
    "Love",
    "Good",
    "Moody",
    "Small",
    "Strong",
    "Black",
    "Green",
    "Gray",
    "Rich",
    "Best",
    "Sharp",
    "Field",
    "Stone",
    "Hill",
    "Banks",
    "Frost",
    "Wolf",
    "Fox",
    "King",
    "Page",
    "May",
    "Bird",
    "Little",
    "Long",
    "Short",
    "Major",
    "Story",
    "Child",
]
EPONYMS = [
    "Parkinson disease",
    "Alzheimer dementia",
    "Foley catheter",
    "Bell's palsy",
    "Apgar score",
    "Crohn disease",
    "Hodgkin lymphoma",
    "Cushing syndrome",
    "Graves disease",
    "Addison disease",
    "Hashimoto thyroiditis",
    "Barrett esophagus",
    "Kawasaki disease",
    "Guillain-Barre syndrome",
    "Raynaud phenomenon",
    "Sjogren syndrome",
    "Wilson disease",
    "Huntington disease",
    "Tourette syndrome",
    "Down syndrome",
    "Babinski sign",
    "Murphy sign",
    "Swan-Ganz catheter",
    "Whipple procedure",
    "Nissen fundoplication",
    "Glasgow Coma Scale",
    "Wells score",
    "Epley maneuver",
    "Valsalva maneuver",
    "Trendelenburg position",
    "Holter monitor",
    "Hickman line",
    "Bankart lesion",
    "Colles fracture",
    "Baker cyst",
    "Meckel diverticulum",
]
DRUGS = [
    "metformin 500 mg PO BID",
    "lisinopril 10 mg daily",
    "apixaban 5 mg BID",
    "furosemide 40 mg IV",
    "atorvastatin 40 mg qhs",
    "insulin glargine 20 units",
    "vancomycin 1 g q12h",
    "piperacillin-tazobactam 4.5 g q6h",
    "heparin drip",
    "aspirin 81 mg",
    "prednisone 40 mg",
    "albuterol nebs q4h prn",
    "ondansetron 4 mg IV",
    "morphine 2 mg IV q2h prn",
    "levothyroxine 75 mcg",
    "warfarin 5 mg",
    "norepinephrine 0.05 mcg/kg/min",
    "propofol gtt",
    "ceftriaxone 1 g IV daily",
    "Tylenol 650 mg q6h",
    "Lasix 20 mg",
    "Coumadin",
    "Eliquis",
    "Keppra 500 mg BID",
    "Zosyn",
    "Humalog sliding scale",
    "KCl 40 mEq",
]
DEVICES = [
    "PICC line",
    "A-line",
    "ETT 7.5",
    "NG tube",
    "Pleurx catheter",
    "BiPAP",
    "CPAP 10",
    "Impella",
    "IABP",
    "LVAD",
    "pacemaker",
    "ICD",
    "trach collar",
    "JP drain",
    "chest tube",
]
VITALS = [
    "BP 128/76",
    "HR 88",
    "RR 18",
    "SpO2 96% on 2L",
    "T 37.8",
    "Tmax 101.2",
    "HR 100-110'S",
    "BP 90S/50S",
    "MAP 65",
    "CVP 12",
    "UO 30-40 cc/hr",
    "I/O +1.2 L",
    "FiO2 40%",
    "PEEP 8",
    "GCS 14",
    "pain 7/10",
    "pain 3/10",
    "Apgars 8 and 9",
    "NIHSS 4",
    "CHA2DS2-VASc 3",
]
LABS = [
    "WBC 12.4",
    "Hgb 9.1",
    "Plt 145",
    "Na 134",
    "K 5.1",
    "Cr 1.8 from 1.2",
    "BUN 32",
    "glucose 245",
    "HbA1c 8.2%",
    "troponin 0.04",
    "BNP 1250",
    "INR 2.3",
    "lactate 3.1",
    "ALT 54",
    "AST 61",
    "TSH 0.2",
    "LDL 132",
    "eGFR 38",
    "pH 7.31",
    "pCO2 48",
]
TIMES = ["0700", "1900", "14:30", "at 3 pm", "overnight", "at 0400", "q4h", "x2", "12-hour"]
GENERIC_PLACES = [
    "ICU",
    "MICU",
    "CCU",
    "ER",
    "ED",
    "OR",
    "PACU",
    "the floor",
    "rehab",
    "home",
    "the clinic",
    "SNF",
    "cath lab",
    "step-down unit",
    "radiology",
    "the pharmacy",
]
PROFESSIONS = [
    "retired teacher",
    "electrician",
    "nurse",
    "truck driver",
    "lawyer",
    "accountant",
    "construction worker",
    "farmer",
    "software engineer",
    "chef",
    "firefighter",
    "pastor",
    "police officer",
    "hairdresser",
    "plumber",
    "pharmacist",
    "veterinarian",
    "welder",
    "retired machinist",
    "bus driver",
    "professor",
    "dental hygienist",
    "coal miner",
]
HOLIDAYS = [
    "Christmas",
    "Thanksgiving",
    "New Year's Day",
    "Easter",
    "Labor Day",
    "Memorial Day",
    "Christmas Eve",
    "the Fourth of July",
    "Halloween",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = list(calendar.month_name)[1:]
HOSPITAL_PATTERNS = [
    "{city} General Hospital",
    "{city} Medical Center",
    "St. {saint}'s Hospital",
    "{last} Memorial Hospital",
    "{city} Community Hospital",
    "University of {state} Hospital",
    "{city} Regional Medical Center",
    "{last} Clinic",
    "{city} Health",
    "Mercy {city}",
    "{city} Children's Hospital",
    "{last}-{last2} Medical Group",
    "{city} VA Medical Center",
]
SAINTS = ["Mary", "Joseph", "Luke", "Vincent", "Francis", "Anne", "Elizabeth", "John", "Jude"]
STATES = [
    "Massachusetts",
    "Ohio",
    "Texas",
    "Oregon",
    "Georgia",
    "Iowa",
    "Nevada",
    "Maine",
    "Florida",
    "Colorado",
    "Michigan",
    "Arizona",
    "Vermont",
    "Kansas",
    "Utah",
]
STATE_CODES = [
    "MA",
    "OH",
    "TX",
    "OR",
    "GA",
    "IA",
    "NV",
    "ME",
    "FL",
    "CO",
    "MI",
    "AZ",
    "NY",
    "CA",
    "WA",
    "PA",
    "IL",
    "NC",
    "VA",
    "MN",
]


class ValueFactory:
    """Deterministic fictional values; one instance per corpus split and seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = [Faker(locale) for locale in LOCALES]
        for index, faker in enumerate(self.fakers):
            faker.seed_instance(seed * 1000 + index)

    def faker(self) -> Faker:
        # English locales more often: most US notes name mostly anglophone patients.
        if self.rng.random() < 0.35:
            return self.fakers[0]
        return self.rng.choice(self.fakers)

    # -- names ----------------------------------------------------------------
    def first(self) -> str:
        return _latin(self.faker().first_name()) or "Ana"

    def last(self) -> str:
        roll = self.rng.random()
        if roll < 0.12:
            return self.rng.choice(WORD_SURNAMES)
        if roll < 0.18:
            return f"{_latin(self.faker().last_name())}-{_latin(self.faker().last_name())}"
        if roll < 0.22:
            return self.rng.choice(["O'", "D'", "Mc", "Mac"]) + _latin(self.faker().last_name())
        return _latin(self.faker().last_name()) or "Lee"

    def person(self) -> str:
        first, last = self.first(), self.last()
        form = self.rng.random()
        if form < 0.35:
            return f"{first} {last}"
        if form < 0.45:
            return f"{first} {self.rng.choice(string.ascii_uppercase)}. {last}"
        if form < 0.55:
            return f"{last}, {first}"
        if form < 0.65:
            return f"{first[0]}. {last}"
        if form < 0.75:
            return f"{first} {last[0]}."
        if form < 0.88:
            return last
        return first

    # -- places ---------------------------------------------------------------
    def city(self) -> str:
        return _latin(self.faker().city()) or "Springfield"

    def hospital(self) -> str:
        pattern = self.rng.choice(HOSPITAL_PATTERNS)
        return pattern.format(
            city=self.city(),
            saint=self.rng.choice(SAINTS),
            state=self.rng.choice(STATES),
            last=self.last(),
            last2=self.last(),
        )

    def street(self) -> str:
        suffix = self.rng.choice(
            [
                "Street",
                "St",
                "Ave",
                "Avenue",
                "Road",
                "Rd",
                "Lane",
                "Drive",
                "Blvd",
                "Court",
                "Way",
                "Place",
            ]
        )
        name = self.rng.choice(
            [
                self.last(),
                self.rng.choice(["Oak", "Maple", "Pine", "Elm", "Cedar", "Main", "Park", "Lake"]),
            ]
        )
        apt = f", Apt {self.rng.randint(1, 40)}" if self.rng.random() < 0.2 else ""
        return f"{self.rng.randint(1, 9999)} {name} {suffix}{apt}"

    def zip(self) -> str:
        base = f"{self.rng.randint(1000, 99999):05d}"
        return base + (f"-{self.rng.randint(0, 9999):04d}" if self.rng.random() < 0.15 else "")

    def state(self) -> str:
        return self.rng.choice(STATE_CODES + STATES)

    def country(self) -> str:
        return self.rng.choice(
            [
                "Mexico",
                "India",
                "Nigeria",
                "Poland",
                "Brazil",
                "Vietnam",
                "the Philippines",
                "Ireland",
                "Turkey",
                "Haiti",
                "Kenya",
            ]
        )

    def organization(self) -> str:
        return _latin(self.faker().company()) or "Acme Corp"

    # -- dates ----------------------------------------------------------------
    def date(self) -> str:
        rng = self.rng
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3650))
        m, d, y = day.month, day.day, day.year
        month = MONTHS[m - 1]
        ordinal = f"{d}{_ordinal(d)}"
        forms = [
            f"{m:02d}/{d:02d}/{y}",
            f"{m}/{d}/{y}",
            f"{m}/{d}/{y % 100:02d}",
            f"{m}/{d}",
            f"{y}-{m:02d}-{d:02d}",
            f"{month} {d}, {y}",
            f"{month} {ordinal}, {y}",
            f"{month[:3]} {d}, {y}",
            f"{month[:3]}. {d}",
            f"{month} {d}",
            f"{d} {month} {y}",
            f"{d}-{month[:3]}-{y}",
            f"{month[:3]} {y}",
            f"{month} {y}",
            f"'{y % 100:02d}",
            f"{month[:3]} {d}, '{y % 100:02d}",
            f"{month} {ordinal}",
            f"{m}-{d}-{y}",
            f"{d:02d}.{m:02d}.{y}",
            f"{month[:4] if m == 9 else month[:3]} {ordinal} {y}",
            rng.choice(WEEKDAYS),
            rng.choice(HOLIDAYS),
            f"{rng.choice(WEEKDAYS)} {m}/{d}",
        ]
        return rng.choice(forms)

    # -- numbers ----------------------------------------------------------------
    def phone(self) -> str:
        a, b, c = self.rng.randint(201, 989), self.rng.randint(200, 999), self.rng.randint(0, 9999)
        return self.rng.choice(
            [
                f"({a}) {b}-{c:04d}",
                f"{a}-{b}-{c:04d}",
                f"{a}.{b}.{c:04d}",
                f"{a} {b} {c:04d}",
                f"+1 {a} {b} {c:04d}",
                f"{b}-{c:04d}",
                f"{a}-{b}-{c:04d} x{self.rng.randint(10, 9999)}",
            ]
        )

    def email(self, name: str | None = None) -> str:
        user = (name or self.first()).lower().replace(" ", ".").replace("'", "")
        user = "".join(ch for ch in user if ch.isalnum() or ch in "._")[:20] or "pt"
        user += self.rng.choice(["", str(self.rng.randint(1, 99)), "." + self.last().lower()[:6]])
        domain = self.rng.choice(
            [
                "gmail.com",
                "yahoo.com",
                "example.org",
                "mail.com",
                "outlook.com",
                "hospital.org",
                "health.net",
            ]
        )
        return f"{user}@{domain}"

    def url(self) -> str:
        host = self.rng.choice(["portal", "mychart", "www", "records"])
        site = "".join(ch for ch in self.last().lower() if ch.isalpha())[:10] or "clinic"
        return f"https://{host}.{site}health.{self.rng.choice(['org', 'com', 'net'])}/" + "".join(
            self.rng.choices(string.ascii_lowercase + string.digits, k=8)
        )

    def ip(self) -> str:
        return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))

    def identifier(self, kind: str) -> str:
        rng = self.rng
        letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 4)))
        digits = "".join(rng.choices(string.digits, k=rng.randint(5, 10)))
        if kind == "SSN":
            return f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        if kind == "VEHICLE":
            return f"{''.join(rng.choices(string.ascii_uppercase, k=3))}-{rng.randint(1000, 9999)}"
        if kind == "DEVICE":
            return f"SN{digits}{letters}"
        forms = [
            digits,
            f"{letters}-{digits}",
            f"{letters}{digits}",
            f"#{digits}",
            f"{digits[:3]}-{digits[3:5]}-{digits[5:]}",
            f"{digits}{letters[:2]}",
            f"#{letters}-{digits}",
        ]
        return rng.choice(forms)

    def old_age(self) -> str:
        return str(self.rng.randint(90, 104))

    def young_age(self) -> str:
        return str(self.rng.randint(1, 89))

    def profession(self) -> str:
        return self.rng.choice(PROFESSIONS)


def _ordinal(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _latin(value: str) -> str:
    """Keep Latin-script values: notes in English carry romanised names."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(ch for ch in decomposed if ord(ch) < 128)
    return ascii_only.strip()
