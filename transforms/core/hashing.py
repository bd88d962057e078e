"""Unkeyed content digests: of files (inputs, pinned tables, outputs) and of note text."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes, read in blocks (files may be large)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def text_sha256(text: str) -> str:
    """The hex sha256 of a text's UTF-8 bytes; lone surrogates pass through."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
