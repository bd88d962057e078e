import pytest

from transforms.evaluation.gold_formats import GoldFormatError, read_gold
from transforms.evaluation.metrics import GoldRecord, PredSpan, evaluate, gold_span

TEXT = "John Smith seen 3/14 at Mercy Hospital"


def record(spans, hard=False, text=TEXT, id_="r1"):
    return GoldRecord(id_, text, tuple(spans), hard)


GOLD = [gold_span(0, 10, "PATIENT"), gold_span(16, 20, "DATE"), gold_span(24, 38, "HOSPITAL")]


def test_perfect_prediction():
    preds = {
        "r1": [PredSpan(0, 10, "NAME"), PredSpan(16, 20, "DATE"), PredSpan(24, 38, "LOCATION")]
    }
    result = evaluate([record(GOLD)], preds).to_dict()
    assert result["token"]["ALL"]["recall"] == 1.0 and result["token"]["ALL"]["precision"] == 1.0
    assert result["entity"]["ALL"]["recall"] == 1.0


def test_a_partly_redacted_name_is_a_missed_entity_and_half_the_tokens():
    preds = {"r1": [PredSpan(0, 4, "NAME"), PredSpan(16, 20, "DATE"), PredSpan(24, 38, "LOCATION")]}
    evaluation = evaluate([record(GOLD)], preds)
    result = evaluation.to_dict()
    assert result["token"]["NAME"]["recall"] == 0.5
    assert result["entity"]["NAME"]["recall"] == 0.0
    assert [m.surface for m in evaluation.misses] == ["John Smith"]


def test_wrong_type_still_counts_as_redacted_and_extra_spans_cost_precision():
    preds = {"r1": [PredSpan(0, 10, "DATE"), PredSpan(11, 15, "NAME")]}
    result = evaluate([record(GOLD[:1])], preds).to_dict()
    assert result["token"]["NAME"]["recall"] == 1.0
    assert result["token"]["ALL"]["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["entity"]["ALL"]["precision"] == 0.5


def test_hard_negatives_and_excluded_types():
    hard = record([], hard=True, id_="h1")
    other = record([gold_span(0, 4, "SEX", "OTHER")], id_="o1")
    result = evaluate(
        [hard, other],
        {"h1": [PredSpan(0, 4, "NAME")], "o1": [PredSpan(0, 4, "NAME")]},
        exclude_types=["OTHER"],
    ).to_dict()
    assert result["hard_negatives"] == {
        "records": 1,
        "over_redacted": 1,
        "over_redaction_rate": 1.0,
    }
    assert "OTHER" not in result["token"]


def test_gold_formats(tmp_path):
    jsonl = tmp_path / "g.jsonl"
    jsonl.write_text(
        '{"id": "a", "text": "Dr Roe", "spans": [{"start": 3, "end": 6, '
        '"label": "DOCTOR", "hipaa": "NAME"}]}\n'
    )
    assert read_gold(jsonl)[0].spans[0].phi_type == "NAME"
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "n1.txt").write_text("Seen 3/14 by Roe")
    (brat / "n1.ann").write_text("T1\tDATE 5 9\t3/14\nT2\tDOCTOR 13 16\tRoe\n")
    assert [(s.start, s.phi_type) for s in read_gold(brat)[0].spans] == [(5, "DATE"), (13, "NAME")]
    xml = tmp_path / "n2.xml"
    xml.write_text(
        '<?xml version="1.0"?><deIdi2b2><TEXT><![CDATA[MRN 123456 Roe]]></TEXT><TAGS>'
        '<ID id="P0" start="4" end="10" text="123456" TYPE="MEDICALRECORD"/>'
        '<NAME id="P1" start="11" end="14" text="Roe" TYPE="PATIENT"/></TAGS></deIdi2b2>'
    )
    assert [(s.label, s.phi_type) for s in read_gold(xml)[0].spans] == [
        ("MRN", "ID"),
        ("PATIENT", "NAME"),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n')
    with pytest.raises(GoldFormatError, match="line 1"):
        read_gold(bad)
