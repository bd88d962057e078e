"""The pyarrow schemas of the CMS-HCC scoring outputs (``deidcode hcc score``)."""

from __future__ import annotations

import pyarrow as pa

# One row per member, model and HCC found, counted or dropped by a hierarchy.
HCC_SCHEMA = pa.schema(
    [
        pa.field("member_id", pa.string(), nullable=False),
        pa.field("payment_year", pa.int16(), nullable=False),
        pa.field("model", pa.string(), nullable=False),  # V24 | V28
        pa.field("hcc", pa.string(), nullable=False),  # "HCC85"
        pa.field("label", pa.string(), nullable=False),
        pa.field("codes", pa.list_(pa.string()), nullable=False),  # the diagnoses behind it
        pa.field("coefficient", pa.float64(), nullable=False),  # 0 when dropped
        pa.field("dropped_by", pa.list_(pa.string()), nullable=False),  # empty: it counts
    ]
)

# One row per member and model; ``blended`` is the member's payment-year score.
RISK_SCORES_SCHEMA = pa.schema(
    [
        pa.field("member_id", pa.string(), nullable=False),
        pa.field("payment_year", pa.int16(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("segment", pa.string(), nullable=False),
        pa.field("raw", pa.float64(), nullable=False),
        pa.field("normalized", pa.float64(), nullable=False),
        pa.field("adjusted", pa.float64(), nullable=False),  # after the MA coding adjustment
        pa.field("blend_weight", pa.float64(), nullable=False),
        pa.field("blended", pa.float64(), nullable=False),
        pa.field("variables", pa.string(), nullable=False),  # JSON: variable -> relative factor
    ]
)

# Every diagnosis that was read and not quarantined, with whether it counts.
DIAGNOSES_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_number", pa.int64(), nullable=False),
        pa.field("member_id", pa.string(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        pa.field("date_of_service", pa.date32()),
        pa.field("encounter_id", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("eligible", pa.bool_(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),  # a code of ELIGIBILITY_REASONS
    ]
)

HCC_QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("record_type", pa.string(), nullable=False),  # member | diagnosis
        pa.field("member_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),  # a code of HCC_QUARANTINE_REASONS
        pa.field("detail", pa.string()),  # generated; never a field value
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_number", pa.int64(), nullable=False),
    ]
)

HCC_TABLES = {
    "hcc": HCC_SCHEMA,
    "risk_scores": RISK_SCORES_SCHEMA,
    "diagnoses": DIAGNOSES_SCHEMA,
    "quarantine": HCC_QUARANTINE_SCHEMA,
}
