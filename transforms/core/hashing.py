"""Unkeyed file digests, for content that holds no PHI (pinned tables, outputs, models)
or stays internal. Digests of PHI-bearing content are keyed (``transforms.core.keyed``)."""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a local file's bytes, read in blocks (files may be large)."""
    with open(path, "rb") as handle:
        return sha256_stream(handle)


def sha256_stream(handle: BinaryIO) -> str:
    """The hex sha256 of a binary stream's remaining bytes, read in blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
