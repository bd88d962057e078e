"""Fictional PHI values and hard negatives for the synthetic training corpus.

Every value is generated: names, places and streets from Faker across many
locales, numbers and dates from a seeded random generator. Nothing here comes
from a real record.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from faker import Faker

from onnx_models.recipes.phi_lexicon import (
    HOLIDAYS,
    HOSPITAL_PATTERNS,
    LOCALES,
    MONTHS,
    PROFESSIONS,
    SAINTS,
    STATE_CODES,
    STATES,
    WEEKDAYS,
    WORD_SURNAMES,
)


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
        # Faker's it_IT city list comes out of a set, in an order that changes
        # with Python's hash seed; drawing from it would make the corpus differ
        # from one process to the next.
        faker = self.faker()
        while faker is self.fakers[LOCALES.index("it_IT")]:
            faker = self.faker()
        return _latin(faker.city()) or "Springfield"

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
