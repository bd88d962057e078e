"""Keyed, deterministic functions of the run key: pseudonyms and date offsets.

Every use derives its own sub-key from the run key with a purpose label, so a
pseudonym can never be replayed as a date offset and vice versa.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import BinaryIO


def derive_key(master_key: bytes, purpose: str) -> bytes:
    return hmac.new(master_key, b"deidcode/" + purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class RunKeys:
    """Purpose-specific sub-keys derived from the run key; workers never see the run key."""

    patient_id: bytes
    date_shift: bytes
    # For digests of PHI-bearing content (note text, input files, entity ids): keyed,
    # so that holding a note or a file is not enough to confirm it is in the data.
    digest: bytes
    hash: bytes | None = None
    surrogate: bytes | None = None
    encounter_id: bytes | None = None
    # Integer ids of the OMOP copy (person_id, visit_occurrence_id, note_id).
    omop_id: bytes | None = None

    @classmethod
    def derive(cls, master_key: bytes) -> RunKeys:
        return cls(
            patient_id=derive_key(master_key, "patient_id"),
            date_shift=derive_key(master_key, "date_shift"),
            hash=derive_key(master_key, "hash"),
            surrogate=derive_key(master_key, "surrogate"),
            digest=derive_key(master_key, "digest"),
            encounter_id=derive_key(master_key, "encounter_id"),
            omop_id=derive_key(master_key, "omop_id"),
        )


def keyed_stream_digest(keys: RunKeys, handle: BinaryIO) -> str:
    """HMAC-SHA256 of a binary stream's bytes under the digest sub-key, read in blocks
    (the stream may be a local file or an object in a bucket)."""
    digest = hmac.new(keys.digest, digestmod=hashlib.sha256)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def keyed_text_digest(keys: RunKeys, text: str) -> str:
    """HMAC-SHA256 of a text's UTF-8 bytes under the digest sub-key; lone surrogates pass."""
    message = text.encode("utf-8", errors="surrogatepass")
    return hmac.new(keys.digest, message, hashlib.sha256).hexdigest()


def key_fingerprint(master_key: bytes) -> str:
    """A short, non-reversible identifier of the key, for the manifest."""
    return (
        "sha256:" + hmac.new(master_key, b"deidcode/fingerprint", hashlib.sha256).hexdigest()[:16]
    )


def pseudonymize(subkey: bytes, value: str, *, length: int = 32) -> str:
    """Keyed HMAC-SHA256 pseudonym of ``value``, as ``length`` hex characters."""
    return hmac.new(subkey, value.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def keyed_int(subkey: bytes, kind: str, value: str, *, bits: int = 63) -> int:
    """A positive integer id of ``value`` below ``2**bits``, keyed and separated by
    ``kind`` (OMOP's integer person_id and visit_occurrence_id). Collisions are
    possible; the run checks its written ids for them."""
    digest = hmac.new(subkey, f"{kind}/{value}".encode(), hashlib.sha256).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - bits)) or 1


def patient_key(subkey: bytes, patient_id: str) -> bytes:
    """A key of the patient's own, so that one patient's surrogates reveal nothing of another's."""
    return hmac.new(subkey, b"patient/" + patient_id.encode("utf-8"), hashlib.sha256).digest()


def date_shift_days(subkey: bytes, patient_id: str, *, min_days: int, max_days: int) -> int:
    """The patient's date offset in days, uniform in ``[min_days, max_days]``.

    One offset per patient keeps every interval between that patient's dates.
    """
    if min_days > max_days:
        raise ValueError("min_days must not exceed max_days")
    digest = hmac.new(subkey, patient_id.encode("utf-8"), hashlib.sha256).digest()
    span = max_days - min_days + 1
    # 8 bytes against a span of at most a few thousand: the modulo bias is < 1e-15.
    return min_days + int.from_bytes(digest[:8], "big") % span


def shift_date(value: dt.date, days: int) -> dt.date:
    return value + dt.timedelta(days=days)
