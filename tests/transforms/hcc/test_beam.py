"""ScoreMembers in a real Beam pipeline, on beam.Create, checked with assert_that."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.hcc.beam import Located, ScoreMembers
from transforms.hcc.engine import Member


def diagnosis(member_id, code, number, eligible=True):
    """One member's diagnoses of one read batch, as the parsing step emits them."""
    reason = "eligible" if eligible else "audio_only"
    return [("d.csv", number, code, "2025-05-01", "E", "video", eligible, reason)]


def test_score_members_joins_and_quarantines():
    grouped = [
        (
            "m1",
            {
                "members": [Located("m.csv", 1, Member("m1", 72, "F"))],
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
                    Located("m.csv", 2, Member("m4", 70, "M")),
                    Located("m.csv", 3, Member("m4", 71, "M")),
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
            | beam.ParDo(ScoreMembers(payment_year=2026)).with_outputs(
                ScoreMembers.HCC, ScoreMembers.DIAGNOSES, ScoreMembers.QUARANTINE, main="scores"
            )
        )
        assert_that(
            outputs.scores
            | "Scores" >> beam.FlatMap(lambda rows: rows)
            | "ScoresRow" >> beam.Map(lambda r: (r["member_id"], r["segment"], round(r["raw"], 3))),
            equal_to([("m1", "CNA", 0.395 + 1.053)]),
            label="scores",
        )
        assert_that(
            outputs[ScoreMembers.HCC]
            | "Hccs" >> beam.FlatMap(lambda rows: rows)
            | "HccsRow" >> beam.Map(lambda r: (r["hcc"], tuple(r["dropped_by"]))),
            equal_to([("HCC221", ()), ("HCC226", ("HCC221",))]),
            label="hccs",
        )
        assert_that(
            outputs[ScoreMembers.DIAGNOSES]
            | "Dx" >> beam.FlatMap(lambda rows: rows)
            | "DxRow" >> beam.Map(lambda r: (r["code"], r["eligible"])),
            equal_to([("I5022", True), ("Z941", True), ("E1122", False)]),
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
