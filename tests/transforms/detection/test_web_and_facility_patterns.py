"""URLs need the shape of one; facility abbreviations count only in a facility context."""

import pytest

from transforms.detection.patterns import PresidioPatternDetector, url_is_plausible


@pytest.fixture(scope="module")
def detector():
    loaded = PresidioPatternDetector()
    loaded.load()
    return loaded


def found(detector, text, phi_type):
    return [text[s.start : s.end] for s in detector.detect(text) if s.phi_type == phi_type]


@pytest.mark.parametrize(
    "text",
    [
        "lungs clear.no edema",  # ".no" is Norway's ccTLD: two words without a space
        "tolerated po.in no distress",
        "pt.is stable, abd soft.nt",
        "afebrile.vss.plan d/c",
    ],
)
def test_words_joined_by_a_period_are_not_urls(detector, text):
    assert found(detector, text, "CONTACT") == []


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("results on www.example-health.org today", "www.example-health.org"),
        ("portal mgh.org for records", "mgh.org"),
        ("see http://intranet.local/a?x=1 now", "http://intranet.local/a?x=1"),
        ("upload to example.com/records/12", "example.com/records/12"),
        ("visit clinic.nhs.uk for forms", "clinic.nhs.uk"),
    ],
)
def test_real_urls_are_found(detector, text, url):
    assert found(detector, text, "CONTACT") == [url]


def test_url_plausibility_rules():
    assert url_is_plausible("https://x.local")
    assert url_is_plausible("www.a.no")
    assert url_is_plausible("a.no/path")
    assert not url_is_plausible("clear.no")
    assert not url_is_plausible("x.com") and url_is_plausible("ab.com")


@pytest.mark.parametrize(
    ("text", "facility"),
    [
        ("Transferred from MGH on 3/2 for cath.", "MGH"),
        ("pt was transferred here from BIDMC for cath", "BIDMC"),
        ("Admitted to SMH with chest pain.", "SMH"),
        ("transferred from mercy yesterday", "mercy"),
    ],
)
def test_facility_abbreviations_in_a_facility_context(detector, text, facility):
    assert found(detector, text, "LOCATION") == [facility]


@pytest.mark.parametrize(
    "text",
    [
        "transferred to the ICU overnight",  # a unit, not a facility
        "seen at OSH, then sent to ED",
        "transferred to floor",
        "discharged to home with VNA",
        "admitted to medicine",
        "MGH criteria were met.",  # capitals without a facility context
        "CBC and BMP sent.",
    ],
)
def test_abbreviations_without_a_facility_are_not_locations(detector, text):
    assert found(detector, text, "LOCATION") == []
