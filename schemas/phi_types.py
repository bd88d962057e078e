"""The coarse PHI types deidcode reports, and the subtypes that map onto them.

Detectors speak many dialects (presidio entity names, i2b2 2014 labels, model
label sets). Everything is normalised to one ``subtype`` and exactly one coarse
``phi_type`` so that redaction policy and evaluation work on a fixed vocabulary.
"""

from __future__ import annotations

PHI_TYPES: tuple[str, ...] = (
    "NAME",
    "DATE",
    "AGE",
    "LOCATION",
    "CONTACT",
    "ID",
    "PROFESSION",
    "OTHER",
)

# i2b2 2014 subtypes plus the presidio entity names we use, upper-cased.
SUBTYPE_TO_PHI_TYPE: dict[str, str] = {
    # NAME
    "PATIENT": "NAME",
    "DOCTOR": "NAME",
    "USERNAME": "NAME",
    "RELATIVE": "NAME",
    "PERSON": "NAME",
    "NAME": "NAME",
    # PROFESSION
    "PROFESSION": "PROFESSION",
    # LOCATION
    "HOSPITAL": "LOCATION",
    "ORGANIZATION": "LOCATION",
    "STREET": "LOCATION",
    "CITY": "LOCATION",
    "STATE": "LOCATION",
    "COUNTRY": "LOCATION",
    "ZIP": "LOCATION",
    "LOCATION_OTHER": "LOCATION",
    "LOCATION": "LOCATION",
    # AGE
    "AGE": "AGE",
    # DATE
    "DATE": "DATE",
    "DATE_TIME": "DATE",
    # CONTACT
    "CONTACT": "CONTACT",
    "PHONE": "CONTACT",
    "PHONE_NUMBER": "CONTACT",
    "FAX": "CONTACT",
    "EMAIL": "CONTACT",
    "EMAIL_ADDRESS": "CONTACT",
    "URL": "CONTACT",
    "IP_ADDRESS": "CONTACT",
    # ID
    "MRN": "ID",
    "MEDICALRECORD": "ID",
    "SSN": "ID",
    "US_SSN": "ID",
    "ACCOUNT": "ID",
    "ENCOUNTER": "ID",
    "LICENSE": "ID",
    "DEVICE": "ID",
    "HEALTHPLAN": "ID",
    "VEHICLE": "ID",
    "BIOID": "ID",
    "IDNUM": "ID",
    "ID": "ID",
    # OTHER
    "OTHER": "OTHER",
}

# presidio's entity names are normalised to our subtypes.
PRESIDIO_ENTITY_TO_SUBTYPE: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "URL": "URL",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_SSN": "SSN",
    "DATE_TIME": "DATE",
    "PERSON": "PERSON",
}


def coarse_type(subtype: str) -> str:
    """Return the coarse PHI type of ``subtype``; unknown subtypes are ``OTHER``.

    ``OTHER`` (rather than an error) keeps a hospital-added recognizer with a
    new label redacting: an unknown label is still PHI.
    """
    return SUBTYPE_TO_PHI_TYPE.get(subtype.upper(), "OTHER")
