"""Errors shared across steps."""

from __future__ import annotations


class NoteFailure(Exception):
    """Stops one note: it goes to quarantine with ``reason`` (a code from
    ``schemas.tables.QUARANTINE_REASONS``) and ``detail``, text deidcode wrote
    itself, never note content."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail
