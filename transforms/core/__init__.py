"""Shared vocabulary every other part builds on: spans, records, keyed functions, digests."""
