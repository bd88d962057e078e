"""ScoreMembers in a real Beam pipeline, on beam.Create, checked with assert_that."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.hcc_tables import DIAGNOSES_SCHEMA, HCC_SCHEMA, RISK_SCORES_SCHEMA
from transforms.hcc.beam import ScoreMembers, member_tuple
from transforms.hcc.engine import Member


def diagnosis(member_id, code, number, eligible=True):
    """One member's diagnoses of one read batch, as the parsing step emits them."""
    reason = "eligible" if eligible else "audio_only"
    return [(0, number, code, 20209, "E", "video", eligible, reason)]  # file 0: d.csv


def test_score_members_joins_and_quarantines():
    grouped = [
        (
            "m1",
            {
                "members": [member_tuple("m.csv", 1, Member("m1", 72, "F"))],
                "diagnoses": [
                    diagnosis("m1", "I5022", 1),
                    diagnosis("m1", "Z941", 2),
                    # Ineligible: kept in the diagnoses table but not scored.
                    diagnosis("m1", "E1122", 3, eligible=False),
                ],
                "rejected": [],
            },
        ),
        ("m2", {"members": [], "diagnoses": [diagnosis("m2", "I5022", 4)], "rejected": [1]}),
        ("m3", {"members": [], "diagnoses": [diagnosis("m3", "I5022", 5)], "rejected": []}),
        (
            "m4",
            {
                "members": [
                    member_tuple("m.csv", 2, Member("m4", 70, "M")),
                    member_tuple("m.csv", 3, Member("m4", 71, "M")),
                ],
                "diagnoses": [],
                "rejected": [],
            },
        ),
    ]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        outputs = (
            pipeline
            | beam.Create(grouped)
            | beam.ParDo(ScoreMembers(payment_year=2026, diagnosis_files=("d.csv",))).with_outputs(
                ScoreMembers.HCC, ScoreMembers.DIAGNOSES, ScoreMembers.QUARANTINE, main="scores"
            )
        )
        assert_that(
            outputs.scores
            | "Scores" >> beam.FlatMap(lambda rows: rows)
            | "ScoresDict"
            >> beam.Map(lambda r: dict(zip(RISK_SCORES_SCHEMA.names, r, strict=True)))
            | "ScoresRow" >> beam.Map(lambda r: (r["member_id"], r["segment"], round(r["raw"], 3))),
            equal_to([("m1", "CNA", 0.395 + 1.053)]),
            label="scores",
        )
        assert_that(
            outputs[ScoreMembers.HCC]
            | "Hccs" >> beam.FlatMap(lambda rows: rows)
            | "HccsDict" >> beam.Map(lambda r: dict(zip(HCC_SCHEMA.names, r, strict=True)))
            | "HccsRow" >> beam.Map(lambda r: (r["hcc"], tuple(r["dropped_by"]))),
            equal_to([("HCC221", ()), ("HCC226", ("HCC221",))]),
            label="hccs",
        )
        assert_that(
            outputs[ScoreMembers.DIAGNOSES]
            | "Dx" >> beam.FlatMap(lambda rows: rows)
            | "DxDict" >> beam.Map(lambda r: dict(zip(DIAGNOSES_SCHEMA.names, r, strict=True)))
            | "DxRow" >> beam.Map(lambda r: (r["code"], r["eligible"], r["source_file"])),
            equal_to(
                [("I5022", True, "d.csv"), ("Z941", True, "d.csv"), ("E1122", False, "d.csv")]
            ),
            label="diagnoses",
        )
        assert_that(
            outputs[ScoreMembers.QUARANTINE]
            | "Q" >> beam.Map(lambda r: (r["record_type"], r["member_id"], r["reason"])),
            equal_to(
                [
                    ("diagnosis", "m2", "member_quarantined"),
                    ("diagnosis", "m3", "unknown_member"),
                    ("member", "m4", "duplicate_member_id"),
                    ("member", "m4", "duplicate_member_id"),
                ]
            ),
            label="quarantine",
        )
