"""Reading exports into records and writing Parquet and protected JSONL shards."""
