"""One patient's notes redacted together: the surrogate ledger, pure and in Beam."""

import re

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import parse_config
from tests.transforms.deid.test_note import EveryRoe, Exploding, components
from transforms.core.keyed import RunKeys, patient_key, pseudonymize
from transforms.core.records import AnnotatedNote, Note
from transforms.core.spans import Span
from transforms.deid.beam import DeidentifyPatients
from transforms.deid.patient import deidentify_patient
from transforms.detection.base import Detector
from transforms.redaction.surrogates import word_digest

KEYS = RunKeys.derive(b"k" * 40)
SURROGATES = parse_config({"redaction": {"default": {"type": "surrogate"}}})


class Names(Detector):
    """Every capitalised word after "Dr." or "by" is a name."""

    name = "names"

    def detect(self, text):
        return [
            Span(m.start(1), m.end(1), "NAME", "DOCTOR", 0.9, self.name)
            for m in re.finditer(r"(?:Dr\.|by) ([A-Z][a-z]+)", text)
        ]


def note(note_id: str, text: str, patient: str = "P1", record: int = 1) -> AnnotatedNote:
    return AnnotatedNote(Note("export.csv", record, note_id, patient, text))


def patient_run(notes, ledger=None, detectors=None):
    return deidentify_patient(
        pseudonymize(KEYS.patient_id, "P1"),
        notes,
        ledger=ledger or {},
        components=components(*(detectors or (Names(),)), config=SURROGATES),
        keys=KEYS,
        run_id="r1",
    )


def released(result) -> dict[str, str]:
    return {o.note_row["note_id"]: o.note_row["text_deid"] for o in result.outcomes if o.note_row}


def test_one_word_has_one_surrogate_across_notes_and_two_words_never_share_one():
    result = patient_run(
        [
            note("n1", "Seen by Kowalczyk and Dr. Abernathy.", record=1),
            note("n2", "Dr. Kowalczyk called.", record=2),
        ]
    )
    texts = released(result)
    by_kowalczyk = re.search(r"Seen by (\w+)", texts["n1"]).group(1)
    assert texts["n2"] == f"Dr. {by_kowalczyk} called."
    abernathy = re.search(r"Dr\. (\w+)\.", texts["n1"]).group(1)
    assert abernathy != by_kowalczyk
    assert "Kowalczyk" not in texts["n1"] + texts["n2"]
    # The ledger's new entries: one per word, keyed digests only.
    key = patient_key(KEYS.surrogate, "P1")
    assert {row["word_digest"] for row in result.ledger_rows} == {
        word_digest(key, "kowalczyk"),
        word_digest(key, "abernathy"),
    }
    assert all("owalczyk" not in str(row) for row in result.ledger_rows)


def test_a_ledger_entry_from_an_earlier_run_is_kept_and_its_surrogate_not_reused():
    key = patient_key(KEYS.surrogate, "P1")
    ledger = {word_digest(key, "kowalczyk"): "whitfield"}
    texts = released(patient_run([note("n1", "By Dr. Kowalczyk.")], ledger=ledger))
    assert texts["n1"] == "By Dr. Whitfield."
    # Another word of the patient whose first choice was "whitfield" must take another.
    clash = {word_digest(key, "kowalczyk"): "whitfield", word_digest(key, "x"): "smith"}
    result = patient_run([note("n1", "Dr. Smith and Dr. Kowalczyk.")], ledger=clash)
    surrogate_of_smith = re.match(r"Dr\. (\w+) and", released(result)["n1"]).group(1)
    assert surrogate_of_smith.lower() not in ("smith", "whitfield")


def test_the_result_does_not_depend_on_the_order_notes_arrive_in():
    notes = [note(f"n{i}", f"Dr. Name{chr(97 + i)}x saw Dr. Roe.", record=i) for i in range(6)]
    assert released(patient_run(notes)) == released(patient_run(list(reversed(notes))))


def test_a_note_whose_detector_fails_is_quarantined_alone():
    class FailsOnBoom(Detector):
        name = "fails_on_boom"

        def detect(self, text):
            if "Kaboom" in text:
                raise RuntimeError(text)
            return []

    result = patient_run(
        [note("n1", "Dr. Roe Kaboom.", record=1), note("n2", "Dr. Roe.", record=2)],
        detectors=(Names(), FailsOnBoom()),
    )
    [failed] = [o.quarantined for o in result.outcomes if o.quarantined]
    assert failed.note_id == "n1" and failed.reason == "detector_failed"
    assert "Kaboom" not in str(failed.detail)
    assert set(released(result)) == {"n2"}


def test_in_beam_each_patient_is_grouped_with_its_ledger_rows():
    key = patient_key(KEYS.surrogate, "P1")
    pseudonym = pseudonymize(KEYS.patient_id, "P1")
    ledger_row = {
        "patient_id": pseudonym,
        "word_digest": word_digest(key, "roe"),
        "surrogate": "vance",
    }
    fn = DeidentifyPatients(
        components=components(EveryRoe(), config=SURROGATES), keys=KEYS, run_id="r1"
    )
    with TestPipeline() as pipeline:
        notes = pipeline | "Notes" >> beam.Create([(pseudonym, note("n1", "Dr. Roe."))])
        ledger = pipeline | "Ledger" >> beam.Create([(pseudonym, ledger_row)])
        outputs = (
            {"notes": notes, "ledger": ledger}
            | beam.CoGroupByKey()
            | beam.ParDo(fn).with_outputs(*DeidentifyPatients.TAGS, main="notes")
        )

        def check(rows):
            assert [row["text_deid"] for row in rows] == ["Dr. Vance."]

        assert_that(outputs.notes, check)
        assert_that(outputs[DeidentifyPatients.LEDGER], equal_to([]), label="NoNewEntries")


def test_a_failing_detector_message_never_reaches_the_ledger_or_the_outcome():
    result = patient_run([note("n1", "Dr. Secretname.")], detectors=(Exploding(),))
    assert result.ledger_rows == []
    [outcome] = result.outcomes
    assert outcome.quarantined.reason == "detector_failed"
    assert "Secretname" not in f"{outcome.quarantined.detail} {outcome.quarantined.row()}"
