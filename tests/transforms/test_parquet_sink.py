import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.parquet_sink import (
    TableSpec,
    WriteParquetShards,
    WriteTablesTogether,
    fill_empty_shards,
    shard_index,
)

SCHEMA = pa.schema([pa.field("k", pa.string(), nullable=False), pa.field("v", pa.int64())])
OPTIONS = ["--runner=FnApiRunner"]


def _write(directory, rows, num_shards=3):
    with TestPipeline(argv=OPTIONS) as p:
        written = (
            p
            | beam.Create(rows)
            | WriteParquetShards(
                directory=str(directory),
                schema=SCHEMA,
                shard_key=lambda r: r["k"],
                sort_key=lambda r: r["k"],
                num_shards=num_shards,
            )
        )
        expected = {}
        for row in rows:
            shard = shard_index(row["k"], num_shards)
            expected[shard] = expected.get(shard, 0) + 1
        assert_that(
            written | beam.MapTuple(lambda path, n: (os.path.basename(path), n)),
            equal_to(
                [(f"part-{s:05d}-of-{num_shards:05d}.parquet", n) for s, n in expected.items()]
            ),
        )
    fill_empty_shards(str(directory), SCHEMA, num_shards, compression_level=3)


def test_shards_are_sorted_complete_and_byte_identical(tmp_path):
    rows = [{"k": f"key{i}", "v": i} for i in range(50)]
    _write(tmp_path / "a", rows)
    _write(tmp_path / "b", list(reversed(rows)))
    names = sorted(os.listdir(tmp_path / "a"))
    assert len(names) == 3
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        keys = pq.read_table(tmp_path / "a" / name).column("k").to_pylist()
        assert keys == sorted(keys)
    assert pq.read_table(tmp_path / "a").num_rows == 50
    assert pq.read_table(tmp_path / "a").schema.field("k").nullable is False


def test_tables_written_together_shard_by_entity_and_sort_within_each_table(tmp_path):
    """Rows arrive grouped per entity as tuples; each table gets every row, in order,
    and an entity's rows share one shard number across tables."""
    counts = pa.schema([pa.field("k", pa.string(), nullable=False), pa.field("n", pa.int64())])
    groups = [
        (key, {"values": [(key, v) for v in range(n)], "counts": [(key, n)]})
        for key, n in [("b", 2), ("a", 3), ("c", 0), ("d", 1)]
    ]
    tables = {
        "values": TableSpec(str(tmp_path / "values"), SCHEMA, lambda r: (r[0], r[1])),
        "counts": TableSpec(str(tmp_path / "counts"), counts, lambda r: r[0]),
    }
    with TestPipeline(argv=OPTIONS) as p:
        _ = p | beam.Create(groups) | WriteTablesTogether(tables=tables, num_shards=2)
    for name, spec in tables.items():
        fill_empty_shards(spec.directory, spec.schema, 2, compression_level=3)
        for path in sorted(os.listdir(spec.directory)):
            keys = pq.read_table(os.path.join(spec.directory, path)).column("k").to_pylist()
            shard = int(path[5:10])
            assert keys == sorted(keys) and all(shard_index(k, 2) == shard for k in keys), name
    values = pq.read_table(tmp_path / "values").to_pylist()
    assert sorted((r["k"], r["v"]) for r in values) == [
        ("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("d", 0),
    ]  # fmt: skip
    assert sorted(r["n"] for r in pq.read_table(tmp_path / "counts").to_pylist()) == [0, 1, 2, 3]
