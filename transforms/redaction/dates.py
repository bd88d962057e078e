"""Shift dates found in text by a patient's offset, keeping each date's format.

``shift_date_text("03/14/2021", -70)`` gives ``"01/03/2021"``; ``"March 14"``
gives ``"January 3"``; ``"14-Mar-2021"`` gives ``"03-Jan-2021"``. Partial dates
are shifted against a reference year (the note's year when known, else a leap
year) and written back with the same parts. Text that no format parses returns
``None``, and the caller must fall back to a tag: an unparsed date is never left
as it was.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

MONTHS = [name.lower() for name in calendar.month_name[1:]]
_MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?P<dot>\.?)"
)
_ORD = r"(?P<ord>st|nd|rd|th)?"
LEAP_REFERENCE_YEAR = 2000  # a leap year, so 2/29 parses in partial dates


def _month_number(name: str) -> int:
    name = name.lower()
    return next(i for i, full in enumerate(MONTHS, start=1) if full.startswith(name[:3]))


def _month_like(template: str, month: int, dot: str) -> str:
    """Month name in the template's length (full or 3-4 letters) and case."""
    full = MONTHS[month - 1]
    if len(template) <= 4 and template.lower() != full:
        name = full[:4] if template.lower() == "sept" and month == 9 else full[:3]
    else:
        name = full
    return _case_like(template, name) + dot


def _case_like(template: str, word: str) -> str:
    if template.isupper():
        return word.upper()
    if template.islower():
        return word.lower()
    return word.capitalize()


def _ordinal(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _year_text(template: str, year: int) -> str:
    return f"{year % 100:02d}" if len(template) == 2 else f"{year:04d}"


def _full_year(text: str, reference: int) -> int:
    if len(text) == 4:
        return int(text)
    value = int(text)
    century = reference // 100 * 100
    year = century + value
    return year - 100 if year > reference + 20 else year


def _width(template: str, value: int, *, padded: bool | None = None) -> str:
    """``value`` written like ``template``: zero-padded to two digits where it was."""
    if padded is None:
        padded = template.startswith("0")
    return f"{value:02d}" if padded else str(value)


def _padded(*templates: str) -> bool:
    """A numeric date is zero-padded if any part shows it (03/14) or all are 2 digits."""
    return any(t.startswith("0") for t in templates) or all(len(t) == 2 for t in templates)


@dataclass(frozen=True)
class DateForm:
    name: str
    pattern: re.Pattern[str]
    render: Callable[[re.Match[str], int, dt.date], str]
    parse: Callable[[re.Match[str], int], dt.date]


def _numeric(sep: str, order: str) -> DateForm:
    # order: "mdy" or "dmy" or "ymd"
    parts = {"m": r"(?P<m>\d{1,2})", "d": r"(?P<d>\d{1,2})", "y": r"(?P<y>\d{4}|\d{2})"}
    if order == "ymd":
        parts["y"] = r"(?P<y>\d{4})"
    body = re.escape(sep).join(parts[c] for c in order)
    pattern = re.compile(rf"^{body}$")

    def parse(m: re.Match[str], ref: int) -> dt.date:
        return dt.date(_full_year(m["y"], ref), int(m["m"]), int(m["d"]))

    def render(m: re.Match[str], ref: int, new: dt.date) -> str:
        padded = _padded(m["m"], m["d"])
        values = {
            "m": _width(m["m"], new.month, padded=padded),
            "d": _width(m["d"], new.day, padded=padded),
            "y": _year_text(m["y"], new.year),
        }
        return sep.join(values[c] for c in order)

    return DateForm(f"numeric_{order}_{sep}", pattern, render, parse)


def _month_day() -> DateForm:
    pattern = re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})$")

    def parse(m: re.Match[str], ref: int) -> dt.date:
        return dt.date(ref, int(m["m"]), int(m["d"]))

    def render(m: re.Match[str], ref: int, new: dt.date) -> str:
        padded = _padded(m["m"], m["d"])
        return (
            f"{_width(m['m'], new.month, padded=padded)}/{_width(m['d'], new.day, padded=padded)}"
        )

    return DateForm("month_day", pattern, render, parse)


def _named(order: str) -> DateForm:
    day = rf"(?P<d>\d{{1,2}}){_ORD}"
    year = r"(?P<y>\d{4}|'\d{2})"
    if order == "month_day_year":
        body = rf"{_MONTH_NAME}\s+{day}(?:(?P<sep>,?\s+){year})?"
    elif order == "day_month_year":
        body = rf"{day}\s+(?P<of>of\s+)?{_MONTH_NAME}(?:(?P<sep>,?\s+){year})?"
    elif order == "dd_mon_yyyy":
        body = rf"(?P<d>\d{{1,2}})-{_MONTH_NAME}-(?P<y>\d{{4}}|\d{{2}})"
    else:  # month_year
        body = rf"{_MONTH_NAME},?(?P<sep>\s+)(?P<y>\d{{4}})"
    pattern = re.compile(rf"^{body}$", re.IGNORECASE)

    def year_of(m: re.Match[str], ref: int) -> int:
        y = m.groupdict().get("y")
        if not y:
            return ref
        return _full_year(y.lstrip("'"), ref)

    def parse(m: re.Match[str], ref: int) -> dt.date:
        d = int(m["d"]) if m.groupdict().get("d") else 15
        return dt.date(year_of(m, ref), _month_number(m["mon"]), d)

    def render(m: re.Match[str], ref: int, new: dt.date) -> str:
        month = _month_like(m["mon"], new.month, m["dot"])
        groups = m.groupdict()
        y = groups.get("y")
        year = ""
        if y:
            year = ("'" + f"{new.year % 100:02d}") if y.startswith("'") else _year_text(y, new.year)
        if order == "dd_mon_yyyy":
            return f"{_width(m['d'], new.day, padded=len(m['d']) == 2)}-{month}-{year}"
        if order == "month_year":
            comma = m.group(0)[len(m["mon"]) + len(m["dot"]) : m.start("sep") - m.start()]
            return f"{month}{comma}{m['sep']}{year}"
        ordinal = _ordinal(new.day) if groups.get("ord") else ""
        if groups.get("ord") and groups["ord"].isupper():
            ordinal = ordinal.upper()
        day_text = f"{_width(m['d'], new.day)}{ordinal}"
        tail = f"{m['sep']}{year}" if y else ""
        if order == "month_day_year":
            return f"{month} {day_text}{tail}"
        return f"{day_text} {m['of'] or ''}{month}{tail}"

    return DateForm(order, pattern, render, parse)


FORMS: tuple[DateForm, ...] = (
    _numeric("/", "mdy"),
    _numeric("-", "mdy"),
    _numeric("-", "ymd"),
    _numeric("/", "ymd"),
    _numeric(".", "dmy"),
    _month_day(),
    _named("month_day_year"),
    _named("day_month_year"),
    _named("dd_mon_yyyy"),
    _named("month_year"),
)


def shift_date_text(text: str, days: int, *, reference_year: int | None = None) -> str | None:
    """The date in ``text`` moved by ``days``, in the same format; None if unparsable."""
    stripped = text.strip()
    ref = reference_year or LEAP_REFERENCE_YEAR
    for form in FORMS:
        match = form.pattern.match(stripped)
        if not match:
            continue
        try:
            original = form.parse(match, ref)
        except (ValueError, StopIteration):
            return None
        shifted = original + dt.timedelta(days=days)
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        return lead + form.render(match, ref, shifted) + trail
    return None
