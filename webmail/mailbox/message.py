"""One message, parsed for the reading pane: headers, the body to show, attachments, cid parts.

Mail is hostile or broken often enough that nothing here may raise on bad input: unknown
charsets, broken MIME, missing dates, 8-bit headers and huge parts all degrade to something
readable instead.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message

from webmail.protocol import headers

# Bodies larger than this are cut before rendering; the whole message stays downloadable.
MAX_INLINE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    index: int  # position in walk() order; the download URL names it
    filename: str
    content_type: str
    size: int
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMessage:
    subject: str = ""
    from_: str = ""
    from_address: str = ""
    from_name: str = ""
    to: str = ""
    cc: str = ""
    reply_to: str = ""
    date: datetime | None = None
    message_id: str = ""
    text_body: str = ""
    html_body: str = ""
    truncated: bool = False
    attachments: list[Part] = field(default_factory=list)
    inline_parts: dict[str, int] = field(default_factory=dict)  # content-id -> part index
    authentication_results: list[str] = field(default_factory=list)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # the header registry raises on some malformed values: use the raw text
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return headers.decode(str(value)) if value is not None else ""


def read(raw: bytes) -> ParsedMessage:
    message = parse(raw)
    parsed = ParsedMessage(
        subject=header(message, "Subject"),
        from_=header(message, "From"),
        to=header(message, "To"),
        cc=header(message, "Cc"),
        reply_to=header(message, "Reply-To"),
        message_id=header(message, "Message-ID"),
    )
    parsed.from_name, parsed.from_address = email.utils.parseaddr(parsed.from_)
    try:
        parsed.date = email.utils.parsedate_to_datetime(header(message, "Date")) if header(message, "Date") else None
    except (TypeError, ValueError, IndexError):
        parsed.date = None
    parsed.authentication_results = [headers.decode(str(v)) for v in message.get_all("Authentication-Results", [])]

    text_part = html_part = None
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        content_id = header(part, "Content-ID").strip("<> ")
        is_body_candidate = disposition != "attachment" and not filename
        if is_body_candidate and content_type == "text/plain" and text_part is None:
            text_part = part
            continue
        if is_body_candidate and content_type == "text/html" and html_part is None:
            html_part = part
            continue
        payload_size = len(part.get_payload(decode=False) or "")
        item = Part(
            index=index,
            filename=filename or _default_name(content_type, index),
            content_type=content_type,
            size=_decoded_size(part, payload_size),
            content_id=content_id,
            inline=bool(content_id) and disposition != "attachment",
        )
        if item.inline:
            parsed.inline_parts[content_id] = index
        if not item.inline or filename:
            parsed.attachments.append(item)
    parsed.text_body, cut_text = _content(text_part)
    parsed.html_body, cut_html = _content(html_part)
    parsed.truncated = cut_text or cut_html
    return parsed


def part_bytes(raw: bytes, index: int) -> tuple[Part, bytes] | None:
    """The decoded content of the part at ``index`` in walk() order."""
    found = parts_bytes(raw, {index})
    return found[0] if found else None


def parts_bytes(raw: bytes, indexes: set[int]) -> list[tuple[Part, bytes]]:
    """The decoded content of the leaf parts at ``indexes`` (walk() order), in one parse."""
    found = []
    for position, part in enumerate(parse(raw).walk()):
        if position in indexes and not part.is_multipart():
            data = _payload(part)
            content_type = part.get_content_type()
            filename = _filename(part) or _default_name(content_type, position)
            found.append((Part(index=position, filename=filename, content_type=content_type, size=len(data)), data))
    return found


def _payload(part: Message) -> bytes:
    """A leaf part's content, transfer-decoded (nothing for a part that has none)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _decoded_size(part: Message, encoded: int) -> int:
    # An estimate without decoding: base64 carries 3 bytes in 4 characters.
    encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
    return encoded * 3 // 4 if encoding == "base64" else encoded


def _content(part: Message | None) -> tuple[str, bool]:
    if part is None:
        return "", False
    data = _payload(part)
    truncated = len(data) > MAX_INLINE_BYTES
    data = data[:MAX_INLINE_BYTES]
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace"), truncated
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", "replace") if _looks_utf8(data) else data.decode("latin-1"), truncated


def _looks_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # malformed RFC 2231 parameters
        name = None
    if not name:
        return ""
    name = headers.decode(name)
    # Keep only the last path component and drop control characters.
    name = re.split(r"[\\/]", name)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:200]


def _default_name(content_type: str, index: int) -> str:
    extension = {"text/plain": "txt", "text/html": "html", "image/png": "png", "image/jpeg": "jpg"}.get(
        content_type, "bin"
    )
    return f"part-{index}.{extension}"
