"""HL7 v2 feeds: MDM^T02 (and the other MDM document events) and ORU^R01 messages.

A file holds one message, a batch (FHS/BHS ... BTS/FTS envelopes around many
MSH), or an MLLP-framed dump (``<VT> message <FS><CR>`` per message). Each
message is one record, numbered in file order.

The note text is the OBX-5 values of the TX, FT and ST observations in order:
repetitions (``~``) and observations end lines, and the escape sequences are
decoded with the encoding characters the message declares in MSH-1/MSH-2.
Parsing is the ``hl7`` package's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import hl7
import hl7.containers
import hl7.util

from transforms.core.records import RawRecord
from transforms.io import files

# hl7 logs unparseable escape sequences with the whole field value, which is
# note text: its loggers stay silent so no PHI reaches a log.
hl7.util.logger.disabled = True
hl7.containers.logger.disabled = True

TEXT_VALUE_TYPES = ("TX", "FT", "ST")
# MDM events that carry the document's content, and the one ORU event.
NOTE_MESSAGE_TYPES = {
    "MDM": ("T02", "T04", "T06", "T08", "T10"),
    "ORU": ("R01",),
}
# MSH-18 character sets, by the names HL7 tables 0211 give them.
CHARSETS = {
    "": "utf-8",  # unstated: ASCII by the standard, read as its superset UTF-8
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/15": "iso8859-15",
}
# Formatting commands become line ends; highlighting (\H\ ... \N\) is dropped,
# where the hl7 package would write underscores into the note.
_FORMATTING = {"H": "", "N": ""}
_MESSAGE_CODE = re.compile(r"[A-Z]{3}\^[A-Z][0-9]{2}")
_MLLP_FRAME = re.compile(rb"\x0b(.*?)\x1c\r?", re.DOTALL)
_SEGMENT_END = re.compile(rb"\r\n|\r|\n")
_ENVELOPE = (b"FHS", b"BHS", b"BTS", b"FTS")


class MessageError(ValueError):
    """A message yields no note: a quarantine reason and a value-free detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def split_messages(data: bytes) -> list[list[bytes]]:
    """The messages of a file, each as its segments' bytes (envelopes dropped).

    Segments before the first MSH (other than batch envelopes) make a message of
    their own, which parsing then refuses, so no bytes of the file go unread."""
    frames = _MLLP_FRAME.findall(data) if b"\x0b" in data else [data]
    messages: list[list[bytes]] = []
    for frame in frames:
        current: list[bytes] | None = None
        for segment in _SEGMENT_END.split(frame):
            segment = segment.strip(b"\x00")
            if not segment.strip() or segment[:3] in _ENVELOPE:
                continue
            if segment.startswith(b"MSH") or current is None:
                current = []
                messages.append(current)
            current.append(segment)
    return messages


def _charset(segments: list[bytes]) -> str:
    msh = segments[0]
    if not msh.startswith(b"MSH") or len(msh) < 4:
        return "utf-8"
    separator = msh[3:4]
    fields = msh.split(separator)
    # fields[0] is "MSH" and MSH-1 is the separator itself, so MSH-n is fields[n - 1].
    name = fields[17].decode("ascii", "replace").split("~")[0].strip() if len(fields) > 17 else ""
    return CHARSETS.get(name.upper(), "")


def parse_message(segments: list[bytes]) -> hl7.Message:
    encoding = _charset(segments)
    if not encoding:
        raise MessageError("invalid_hl7", "MSH-18 names a character set deidcode cannot decode")
    try:
        text = b"\r".join(segments).decode(encoding)
    except UnicodeDecodeError as exc:
        reason = "invalid_utf8" if encoding == "utf-8" else "invalid_hl7"
        raise MessageError(reason, f"bytes not valid {encoding} at offset {exc.start}") from None
    if not text.startswith("MSH"):
        raise MessageError("invalid_hl7", "the message does not start with an MSH segment")
    try:
        return hl7.parse(text)
    except (hl7.ParseException, IndexError, ValueError, AssertionError) as exc:
        raise MessageError("invalid_hl7", f"HL7 parse error ({type(exc).__name__})") from None


def _value(
    segment: hl7.Segment | None, field: int, component: int = 1, repetition: int = 1
) -> str | None:
    """One component of a field (its first subcomponent), or None; 1-based like HL7."""
    if segment is None:
        return None
    try:
        value = segment.extract_field(1, field, repetition, component, 1)
    except (IndexError, KeyError):
        return None
    text = str(value).strip()
    return text or None


def _repetitions(segment: hl7.Segment, field: int) -> int:
    if len(segment) <= field:
        return 0
    value = segment[field]
    if isinstance(value, hl7.containers.Field) and all(
        isinstance(part, hl7.containers.Repetition) for part in value
    ):
        return len(value)
    return 1


def _segment(message: hl7.Message, name: str) -> hl7.Segment | None:
    try:
        return message.segment(name)
    except KeyError:
        return None


def message_type(message: hl7.Message) -> tuple[str, str]:
    msh = _segment(message, "MSH")
    return (_value(msh, 9, 1) or "", _value(msh, 9, 2) or "")


def patient_identifier(pid: hl7.Segment | None) -> str | None:
    """PID-3: the medical record number (type MR) where listed, else the first
    identifier; with its assigning authority (CX.4) as ``authority|id``."""
    if pid is None:
        return None
    listed = [r for r in range(1, _repetitions(pid, 3) + 1) if _value(pid, 3, 1, r)]
    if not listed:
        return None
    chosen = next((r for r in listed if _value(pid, 3, 5, r) == "MR"), listed[0])
    identifier, authority = _value(pid, 3, 1, chosen), _value(pid, 3, 4, chosen)
    return f"{authority}|{identifier}" if authority else identifier


def hl7_date(value: str | None) -> dt.date | str | None:
    """An HL7 TS (``YYYYMMDD[HHMM[SS]][+ZZZZ]``) as its calendar date; a value
    that is not one is returned as it is, so validation names the bad field."""
    if not value:
        return None
    digits = value[:8]
    if len(digits) == 8 and digits.isdigit():
        try:
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            return value
    return value


def note_text(message: hl7.Message) -> str | None:
    lines: list[str] = []
    for obx in message.segments("OBX") if _segment(message, "OBX") else []:
        if _value(obx, 2) not in TEXT_VALUE_TYPES or len(obx) <= 5:
            continue
        field = obx[5]
        repetitions = list(field) if isinstance(field, hl7.containers.Field) else [field]
        for repetition in repetitions:
            # A repetition's components are joined back: TX/FT values are not
            # meant to have any, and a stray '^' in a sentence must not lose words.
            raw = str(repetition)
            lines.append(message.unescape(raw, app_map=_FORMATTING).replace("\r", "\n"))
    return "\n".join(lines) if lines else None


def message_fields(message: hl7.Message) -> dict[str, Any]:
    """A note message as deidcode's record fields."""
    kind, event = message_type(message)
    if event not in NOTE_MESSAGE_TYPES.get(kind, ()):
        # The type is named only when it has the standard's shape: MSH-9 is input.
        named = f"{kind}^{event} " if _MESSAGE_CODE.fullmatch(f"{kind}^{event}") else ""
        raise MessageError(
            "unsupported_message_type", f"message type {named}is not MDM^T02-T10 or ORU^R01"
        )
    msh, pid, pv1 = (_segment(message, name) for name in ("MSH", "PID", "PV1"))
    txa, obr = _segment(message, "TXA"), _segment(message, "OBR")
    obx = _segment(message, "OBX")
    note_id = _value(txa, 12) or _value(obr, 3) or _value(obr, 2) or _value(msh, 10)
    return {
        "note_id": note_id,
        "patient_id": patient_identifier(pid),
        "text": note_text(message),
        "note_date": hl7_date(_value(txa, 4) or _value(obx, 14) or _value(obr, 7)),
        "encounter_id": _value(pv1, 19),
        "note_type": _value(txa, 2) or _value(obr, 4),
        # Further structured fields a config may release under input.column_policies.
        "message_type": f"{kind}^{event}",
        "document_status": _value(txa, 17),
    }


def read_hl7v2(path: str) -> Iterator[RawRecord]:
    """One record per message of ``path``, or the reason it has no note."""
    data = files.read_bytes(path)
    for number, segments in enumerate(split_messages(data), start=1):
        try:
            fields = message_fields(parse_message(segments))
        except MessageError as exc:
            yield RawRecord(path, number, None, exc.reason, exc.detail)
            continue
        except Exception as exc:  # noqa: BLE001 - a parser on untrusted bytes: fail closed
            yield RawRecord(path, number, None, "invalid_hl7", f"unreadable ({type(exc).__name__})")
            continue
        yield RawRecord(path, number, fields)
