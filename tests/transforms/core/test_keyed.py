import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from transforms.core.keyed import (
    date_shift_days,
    derive_key,
    key_fingerprint,
    pseudonymize,
    shift_date,
)

KEY = b"k" * 32


def test_pseudonyms_are_keyed_and_stable():
    sub = derive_key(KEY, "patient_id")
    assert pseudonymize(sub, "P1") == pseudonymize(sub, "P1")
    assert pseudonymize(sub, "P1") != pseudonymize(derive_key(b"j" * 32, "patient_id"), "P1")
    assert pseudonymize(sub, "P1") != pseudonymize(sub, "P2")
    assert derive_key(KEY, "patient_id") != derive_key(KEY, "date_shift")


def test_fingerprint_does_not_reveal_the_key():
    fingerprint = key_fingerprint(KEY)
    assert fingerprint.startswith("sha256:") and "k" * 8 not in fingerprint


@given(st.text(min_size=1, max_size=20), st.integers(-1000, -1), st.integers(0, 500))
def test_offset_in_range(patient, low, width):
    high = min(low + width, -1)
    days = date_shift_days(KEY, patient, min_days=low, max_days=high)
    assert low <= days <= high


def test_offsets_differ_between_patients():
    offsets = {date_shift_days(KEY, f"P{i}", min_days=-365, max_days=-1) for i in range(200)}
    # 200 uniform draws from 365 values give about 154 distinct ones.
    assert len(offsets) > 120


def test_shift_keeps_intervals_across_leap_years():
    a, b = dt.date(2020, 2, 28), dt.date(2020, 3, 1)
    assert (shift_date(b, -400) - shift_date(a, -400)) == b - a
