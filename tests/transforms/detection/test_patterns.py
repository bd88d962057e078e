"""The presidio pattern detector on hand-written clinical snippets."""

import pytest

from transforms.detection.base import DETECTOR_REGISTRY, DetectorConfigError, build_detectors
from transforms.detection.patterns import PresidioPatternDetector


@pytest.fixture(scope="module")
def detector():
    d = PresidioPatternDetector(min_age=0)
    d.load()
    return d


def found(detector, text):
    return {(text[s.start : s.end], s.subtype) for s in detector.detect(text)}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Seen 03/14/2021 in clinic", "03/14/2021"),
        ("f/u on 3/14 with labs", "3/14"),
        ("CT 2021-03-14 showed", "2021-03-14"),
        ("admitted March 14 with", "March 14"),
        ("admitted March 14, 2021 with", "March 14, 2021"),
        ("biopsy 14-Mar-2021 benign", "14-Mar-2021"),
        ("last seen Mar 2021", "Mar 2021"),
        ("MI in '92, stented", "'92"),
        ("on 14 March 2021 the", "14 March 2021"),
    ],
)
def test_clinical_date_forms(detector, text, expected):
    assert (expected, "DATE") in found(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "Pain 5/10 in knee",
        "BP 120/80 HR 60",
        "take 1/2 tab daily",
        "may 5 mg be given",
        "Parkinson disease and Foley catheter",
        "Apgar 8 and 9",
        "HR 100-110'S",
    ],
)
def test_clinical_non_dates_are_not_dates(detector, text):
    assert not any(subtype == "DATE" for _, subtype in found(detector, text))


def test_impossible_dates_are_rejected(detector):
    assert not found(detector, "ratio 2/30 noted")


@pytest.mark.parametrize(
    "text, age",
    [
        ("72 yo male", "72"),
        ("a 72-year-old woman", "72"),
        ("aged 91", "91"),
        ("72 y/o", "72"),
        ("Age: 95", "95"),
    ],
)
def test_ages(detector, text, age):
    assert (age, "AGE") in found(detector, text)


def test_default_reports_only_ages_of_90_and_over():
    d = PresidioPatternDetector()
    d.load()
    assert not found(d, "72 yo male")
    assert ("93", "AGE") in found(d, "93 yo male")


@pytest.mark.parametrize(
    "text, value, subtype",
    [
        ("MRN: 00123456 admitted", "00123456", "MRN"),
        ("Medical Record No. A12345", "A12345", "MRN"),
        ("Acct # 77712345.", "77712345", "ACCOUNT"),
        ("Encounter: E99887766", "E99887766", "ENCOUNTER"),
        ("Accession #: RA934001", "RA934001", "IDNUM"),
        ("SSN 123-45-6789", "123-45-6789", "SSN"),
    ],
)
def test_ids_by_context(detector, text, value, subtype):
    assert (value, subtype) in found(detector, text)


def test_numbers_without_id_context_are_not_ids(detector):
    assert not any(t == "ID" for t in (s.phi_type for s in detector.detect("WBC 12345 today")))


@pytest.mark.parametrize(
    "text, value, subtype",
    [
        ("call 617-555-0199 today", "617-555-0199", "PHONE"),
        ("Fax: (617) 555-0100", "(617) 555-0100", "FAX"),
        ("mail jsmith@example.org now", "jsmith@example.org", "EMAIL"),
        ("see https://portal.example.org/x", "https://portal.example.org/x", "URL"),
        ("host 10.0.0.12 down", "10.0.0.12", "IP_ADDRESS"),
        ("Lives at 12 Elm Street, Apt 4.", "12 Elm Street, Apt 4", "STREET"),
        ("Springfield, MA 01103", "01103", "ZIP"),
        ("Springfield, MA 01103", "Springfield", "CITY"),
    ],
)
def test_contacts_and_locations(detector, text, value, subtype):
    assert (value, subtype) in found(detector, text)


@pytest.mark.parametrize(
    "text, name",
    [
        ("seen by Dr. Jane O'Brien today", "Jane O'Brien"),
        ("DR SMITH AWARE", "SMITH"),
        ("Mr. Garcia was seen", "Garcia"),
        ("Mrs. McAllister-Vance", "McAllister-Vance"),
        ("Patient: John Smith\nMRN", "John Smith"),
        ("Name: SMITH, JOHN", "SMITH, JOHN"),
        ("Electronically signed by Alan K. Turing, MD", "Alan K. Turing"),
        ("cc: Dr. Ada Lovelace", "Ada Lovelace"),
        ("Harriet Lindqvist, MD", "Harriet Lindqvist"),
    ],
)
def test_names_after_titles_and_labels(detector, text, name):
    # Coverage, not exact extent: in ALL-CAPS text a following word may be taken too.
    start = text.index(name)
    assert any(
        s.start <= start and start + len(name) <= s.end and s.phi_type == "NAME"
        for s in detector.detect(text)
    )


def test_names_never_cross_lines(detector):
    values = {v for v, _ in found(detector, "cc: Dr. Who\nCall me")}
    assert "Who" in values


def test_registry_and_config_errors():
    assert "presidio_patterns" in DETECTOR_REGISTRY
    with pytest.raises(DetectorConfigError, match="unknown detector"):
        build_detectors([{"name": "nope"}])
    with pytest.raises(DetectorConfigError, match="unknown rule"):
        PresidioPatternDetector(disabled_rules=["no_such_rule"])
    with pytest.raises(DetectorConfigError, match="does not compile"):
        PresidioPatternDetector(
            extra_rules=[
                {
                    "name": "bad",
                    "subtype": "ID",
                    "patterns": [{"name": "x", "regex": "(", "score": 0.5}],
                }
            ]
        )


def test_hospital_rules_plug_in_from_config():
    d = PresidioPatternDetector(
        extra_rules=[
            {
                "name": "badge",
                "subtype": "IDNUM",
                "patterns": [{"name": "badge", "regex": r"\bBDG-\d{4}\b", "score": 0.9}],
            }
        ]
    )
    d.load()
    assert ("BDG-1234", "IDNUM") in found(d, "badge BDG-1234 scanned")


def test_regex_timeout_fails_closed(monkeypatch):
    from transforms.detection import patterns

    monkeypatch.setattr(patterns, "REGEX_TIMEOUT_SECONDS", 0.000001)
    d = PresidioPatternDetector()
    d.load()
    with pytest.raises(patterns.PatternTimeoutError):
        d.detect("x " * 200_000)
