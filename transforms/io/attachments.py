"""Note text from the bytes of an attachment: plain text, HTML or RTF, in a charset.

HTML becomes its visible text (scripts, styles and markup dropped; block
elements and ``<br>`` end lines), and RTF its text, so the detectors read what a
clinician reads. Anything else is refused with a reason code rather than
guessed at.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

PLAIN_TYPES = ("text/plain",)
HTML_TYPES = ("text/html", "application/xhtml+xml")
RTF_TYPES = ("text/rtf", "application/rtf")
TEXT_TYPES = PLAIN_TYPES + HTML_TYPES + RTF_TYPES


@dataclass(frozen=True)
class AttachmentError(Exception):
    """Why an attachment yields no note text: a quarantine reason and a value-free detail."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def decode(data: bytes, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise AttachmentError("invalid_attachment", f"unknown charset {encoding[:40]!r}") from None
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        reason = "invalid_utf8" if codec.name == "utf-8" else "invalid_attachment"
        raise AttachmentError(
            reason, f"bytes not valid {codec.name} at offset {exc.start}"
        ) from None
    return text.removeprefix("\ufeff")


def attachment_text(data: bytes, media_type: str, encoding: str = "utf-8") -> str:
    """The text of an attachment of ``media_type`` (a lowercase MIME type)."""
    if media_type in PLAIN_TYPES:
        return decode(data, encoding)
    if media_type in HTML_TYPES:
        return html_to_text(decode(data, encoding))
    if media_type in RTF_TYPES:
        # RTF is 7-bit by definition; \'hh escapes carry its code page's bytes.
        return rtf_to_text(decode(data, "latin-1"))
    raise AttachmentError(
        "unsupported_content_type", f"content type {media_type[:60]!r} is not a text type"
    )


# Elements whose end is a line end in the rendered page.
_BLOCKS = (
    "p div br li tr h1 h2 h3 h4 h5 h6 table ul ol dl dt dd pre blockquote section "
    "article header footer"
).split()


def html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "head", "template"]):
        hidden.decompose()
    for element in soup.find_all(_BLOCKS):
        element.append("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def rtf_to_text(rtf: str) -> str:
    from striprtf.striprtf import rtf_to_text as strip

    return strip(rtf, errors="strict").strip()
