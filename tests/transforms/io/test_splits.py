"""Reading a file in splits gives exactly the records of one whole-file read."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.io.readers import ReadOptions, plan_splits, read_records

HEADER = b"note_id,patient_id,text\n"
# tmp_path is shared by examples; each example overwrites the one file.
FIXTURE_OK = [HealthCheck.function_scoped_fixture]

# Pieces of CSV that stress record boundaries: quoted fields spanning lines,
# CRLF and lone CR endings, blank lines, bare and unbalanced quotes, bad UTF-8.
CSV_PIECES = [
    b"1,p,plain\n",
    b'2,p,"two\nlines"\n',
    b'3,p,"crlf\r\ninside"\r\n',
    b"4,p,lone cr\r",
    b"\n",
    b"\r\n",
    b"5,p,5'10\" tall\n",
    b'6,p,"bad"quote\n',
    b"7,p,too,many\n",
    b"8,p,caf\xc3\xa9\n",
    b"9,p,bad \xff byte\n",
    b'10,p,"a ""quoted"" word, and a comma"\n',
    b"11,p,no newline at the end",
]


def _as_tuples(records):
    return [(r.record_number, r.fields, r.error, r.detail) for r in records]


def _read_in_splits(path, fmt, split_bytes):
    options = ReadOptions(split_bytes=split_bytes)
    splits = plan_splits(str(path), fmt, options)
    records = [r for split in splits for r in read_records(str(path), fmt, options, split=split)]
    return splits, records


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    pieces=st.lists(st.sampled_from(CSV_PIECES), min_size=1, max_size=12),
    bom=st.booleans(),
    split_bytes=st.integers(min_value=1, max_value=80),
)
def test_csv_splits_read_what_a_whole_read_does(tmp_path, pieces, bom, split_bytes):
    body = b"".join(pieces[:-1]) + pieces[-1]
    path = tmp_path / "notes.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + HEADER + body)
    whole = _as_tuples(read_records(str(path), "csv"))
    splits, records = _read_in_splits(path, "csv", split_bytes)
    assert _as_tuples(records) == whole
    assert [s.stop for s in splits[:-1]] == [s.start for s in splits[1:]]


def test_csv_whole_read_matches_the_csv_module_on_a_text_stream(tmp_path):
    # The line splitting is deidcode's own; the rows must be the csv module's.
    path = tmp_path / "notes.csv"
    # Every piece the csv module reads as a row of three fields.
    pieces = [CSV_PIECES[i] for i in (0, 1, 2, 3, 4, 5, 6, 9, 11, 12)]
    path.write_bytes(HEADER + b"".join(pieces))
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        expected = [row for row in csv.reader(handle, strict=True) if row][1:]
    got = [r.fields for r in read_records(str(path), "csv")]
    assert [list(f.values()) if f else None for f in got] == expected


def test_a_large_csv_is_cut_into_many_splits_at_record_ends(tmp_path):
    path = tmp_path / "notes.csv"
    rows = [f'{i},p{i % 7},"note {i}\nsecond line, with a comma"\n'.encode() for i in range(500)]
    path.write_bytes(HEADER + b"".join(rows))
    splits, records = _read_in_splits(path, "csv", 1000)
    assert len(splits) > 10
    assert [r.record_number for r in records] == list(range(1, 501))
    assert [r.fields["note_id"] for r in records] == [str(i) for i in range(500)]
    assert all(s.header == ("note_id", "patient_id", "text") for s in splits)


def test_a_file_under_the_split_size_is_read_whole(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(HEADER + b"1,p,x\n")
    assert [(s.start, s.stop) for s in plan_splits(str(path), "csv")] == [(0, None)]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    lines=st.lists(
        st.sampled_from(
            [
                json.dumps({"note_id": "1", "text": "a"}).encode() + b"\n",
                b"   \n",
                b"\n",
                b"not json\n",
                b"[1, 2]\n",
                b'{"note_id": "\xff"}\n',
                json.dumps({"note_id": "2", "text": "caf\u00e9 \\n"}).encode() + b"\r\n",
            ]
        ),
        min_size=1,
        max_size=15,
    ),
    split_bytes=st.integers(min_value=1, max_value=60),
)
def test_jsonl_splits_read_what_a_whole_read_does(tmp_path, lines, split_bytes):
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b"".join(lines))
    whole = _as_tuples(read_records(str(path), "jsonl"))
    _, records = _read_in_splits(path, "jsonl", split_bytes)
    assert _as_tuples(records) == whole


def test_parquet_splits_are_runs_of_row_groups(tmp_path):
    path = tmp_path / "notes.parquet"
    table = pa.table({"note_id": [str(i) for i in range(100)], "text": ["x" * 50] * 100})
    pq.write_table(table, path, row_group_size=7)
    splits, records = _read_in_splits(path, "parquet", 500)
    assert len(splits) > 3
    assert [r.record_number for r in records] == list(range(1, 101))
    assert [r.fields["note_id"] for r in records] == table.column("note_id").to_pylist()
