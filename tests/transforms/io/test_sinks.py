import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.io.sinks import WriteParquetShards, fill_empty_shards, shard_index

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


def test_auto_shards_follow_the_input_size():
    from transforms.io.sinks import AUTO_SHARD_BYTES, MAX_SHARDS, auto_shard_count

    assert auto_shard_count(0, fallback=4) == 1
    assert auto_shard_count(AUTO_SHARD_BYTES, fallback=4) == 1
    assert auto_shard_count(AUTO_SHARD_BYTES + 1, fallback=4) == 2
    assert auto_shard_count(10**15, fallback=4) == MAX_SHARDS
    assert auto_shard_count(None, fallback=16) == 16  # a query: its partitions
