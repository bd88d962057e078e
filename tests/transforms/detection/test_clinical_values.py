import pytest

from transforms.detection.clinical_values import protected_regions
from transforms.detection.guards import is_vocabulary_word


def protected(text):
    return [text[a:b] for a, b in protected_regions(text, is_header_word=is_vocabulary_word)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("BP 116/84 sitting", "BP 116/84"),
        ("T 97.9 F, HR 88", "T 97.9 F"),
        ("grade 2/6 murmur", "2/6"),
        ("2/6 holosystolic murmur", "2/6"),
        ("strength 4+/5 in the legs", "strength 4+/5"),
        ("APGAR 8/9", "APGAR 8/9"),
        ("metoprolol 12.5 mg", "12.5 mg"),
        ("K 4.1 this am", "K 4.1"),
        ("called 911", "911"),
        ("on the 10th day after surgery", "the 10th day"),
        ("positive (1/20) titre", "positive (1/20"),
        ("deletion of 5q22 was found", "5q22"),
        ("maps to Xp21.2 near DMD", "Xp21.2"),
        ("the 15q11-13 region", "15q11-13"),
        ("linked to D5S37 and DXS426", "D5S37"),
        ("linked to D5S37 and DXS426", "DXS426"),
        ("HLA-B27 positive", "HLA-B27"),
        ("typed HLA-DRB1*04:01", "HLA-DRB1*04:01"),
        ("alkaptonuria (MIM 203500)", "MIM 203500"),
        ("a G4P0A4 woman", "G4P0A4"),
        ("she is G3P2012", "G3P2012"),
    ],
)
def test_clinical_values_are_protected(text, value):
    assert any(value in region for region in protected(text))


@pytest.mark.parametrize(
    ("text", "phi"),
    [
        ("a 92 years old man", "92"),  # ages from 90 on are PHI
        ("aged 92 years, lives alone", "92"),
        ("92 yrs, widowed", "92"),
        ("pt 92 yo F", "92"),
        ("seen 3/14 in clinic", "3/14"),  # a date with no grade context
        ("Springfield, Massachusetts\nNo pain.", "Springfield"),  # an address line
        ("Walters: called back", "Walters"),  # a name before a colon is no header
        ("Call 617-555-0142", "617"),
        ("MRN 5Q2219384", "5Q2219384"),  # an ID is no chromosome band
        ("Acct D12S4481230", "D12S4481230"),
    ],
)
def test_phi_is_not_protected(text, phi):
    assert not any(phi in region for region in protected(text))


def test_headers():
    text = "NEURO: intact\nREVIEW OF SYSTEMS\nDaughter: at bedside"
    assert {"NEURO", "REVIEW OF SYSTEMS", "Daughter"} <= set(protected(text))
