import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.redaction.dates import shift_date_text

FORMATS = {
    "mdy_padded": ("03/14/2021", "01/03/2021"),
    "mdy": ("3/14/21", "1/3/21"),
    "md": ("3/14", "1/3"),
    "iso": ("2021-03-14", "2021-01-03"),
    "month_day": ("March 14", "January 3"),
    "month_day_year": ("March 14, 2021", "January 3, 2021"),
    "dd_mon_yyyy": ("14-Mar-2021", "03-Jan-2021"),
    "mon_yyyy": ("Mar 2021", "Jan 2021"),
    "month_yyyy": ("March 2021", "January 2021"),
    "ordinal": ("Apr 22nd, 2024", "Feb 12th, 2024"),  # 2024 is a leap year
    "caps": ("MARCH 14", "JANUARY 3"),
    "two_digit_year": ("Jan 22, '24", "Nov 13, '23"),
    "dmy_dots": ("14.03.2021", "03.01.2021"),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_listed_format_keeps_its_shape(name):
    original, expected = FORMATS[name]
    assert shift_date_text(original, -70, reference_year=2021) == expected


def test_unparsable_dates_return_none():
    assert shift_date_text("Monday", -10) is None
    assert shift_date_text("13/45/2020", -10) is None


@given(
    st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31)),
    st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31)),
    st.integers(-365, -1),
)
def test_intervals_are_preserved_across_years_and_leap_days(a, b, days):
    shifted = [dt.date.fromisoformat(shift_date_text(d.isoformat(), days)) for d in (a, b)]
    assert shifted[1] - shifted[0] == b - a
    us = [
        dt.datetime.strptime(shift_date_text(d.strftime("%m/%d/%Y"), days), "%m/%d/%Y").date()
        for d in (a, b)
    ]
    assert us[1] - us[0] == b - a
