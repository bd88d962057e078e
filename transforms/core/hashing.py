"""Unkeyed file digests, for content that holds no PHI (pinned tables, outputs, models)
or stays internal. Digests of PHI-bearing content are keyed (``transforms.core.keyed``)."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes, read in blocks (files may be large)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
