"""A message's row in the envelope cache, from what the server sends: an IMAP ENVELOPE, flags,
size and two header fields become MessageSummary fields, and the conversation a message
belongs to becomes its thread key."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from django.utils import timezone

from webmail.protocol import dsn, headers, imap

_HEADER_KEY = b"BODY[HEADER.FIELDS (REFERENCES CONTENT-TYPE)]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rif|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)


def _address(address) -> tuple[str, str]:
    mailbox = headers.decode(address.mailbox)
    host = headers.decode(address.host)
    return headers.decode(address.name), f"{mailbox}@{host}" if host else mailbox


def _addresses(addresses) -> str:
    shown = []
    for address in addresses or ():
        if address.mailbox is None:  # group syntax markers
            continue
        name, addr = _address(address)
        shown.append(f"{name} <{addr}>" if name else addr)
    return ", ".join(shown)


def normalize_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject).strip().lower()


def thread_key(message_id: str, in_reply_to: str, references: str, subject: str) -> str:
    """The conversation a message belongs to: the root of its References chain, else its
    parent, else itself; a message with no ids at all groups by its normalized subject."""
    ids = re.findall(r"<[^<>\s]+>", references)
    root = ids[0] if ids else (re.findall(r"<[^<>\s]+>", in_reply_to) or [""])[0] or message_id
    return (root or f"subject:{normalize_subject(subject)}")[:255]


def summary_fields(data: dict) -> dict:
    envelope = data.get(b"ENVELOPE")
    raw_headers = data.get(_HEADER_KEY, b"") or b""
    references, content_type = _header_fields(raw_headers)
    flags = {f.lower() for f in data.get(b"FLAGS", ())}
    modseq = (data.get(b"MODSEQ") or (None,))[0]
    size = data.get(b"RFC822.SIZE", 0)
    fields: dict[str, Any] = {
        "modseq": modseq if type(modseq) is int and 0 < modseq <= imap.MAX_MODSEQ else None,
        "seen": b"\\seen" in flags,
        "flagged": b"\\flagged" in flags,
        "answered": b"\\answered" in flags,
        "draft": b"\\draft" in flags,
        "deleted": b"\\deleted" in flags,
        "size": min(size, 2**31 - 1) if type(size) is int and size > 0 else 0,  # what the column holds
        "references": references[:10000],
        "has_attachments": content_type.startswith("multipart/mixed"),
        "is_report": dsn.is_report(content_type),
        "preview": preview_text(data.get(b"PREVIEW")),
    }
    if envelope is not None:
        from_name, from_address = _address(envelope.from_[0]) if envelope.from_ else ("", "")
        date = envelope.date
        if date is not None and timezone.is_naive(date):
            date = date.replace(tzinfo=UTC)
        fields.update(
            from_name=from_name[:255],
            from_address=from_address[:320],
            to=_addresses(envelope.to),
            cc=_addresses(envelope.cc),
            subject=headers.decode(envelope.subject)[:998],
            date=date,
            message_id=headers.decode(envelope.message_id)[:998],
            in_reply_to=headers.decode(envelope.in_reply_to)[:998],
        )
    fields["thread_key"] = thread_key(
        fields.get("message_id", ""), fields.get("in_reply_to", ""), references, fields.get("subject", "")
    )
    return fields


def preview_text(value: object) -> str:
    """FETCH PREVIEW's answer (RFC 8970: at most 256 characters of UTF-8 text, or NIL) as one
    line of at most 200 characters, without control characters."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:200]


def _header_fields(raw: bytes) -> tuple[str, str]:
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", raw)
    references = content_type = ""
    for line in unfolded.split(b"\n"):
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"references":
            references = headers.decode(value)
        elif name.strip().lower() == b"content-type":
            content_type = headers.decode(value).lower()
    return references, content_type
