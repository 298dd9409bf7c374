"""Header values as a person reads them.

Mail headers arrive as bytes in any of several shapes: plain ASCII, RFC 2047 encoded words in
any charset, raw 8-bit UTF-8 or Latin-1 from software that ignores the RFCs, and now and then a
NUL. ``decode`` turns each into one line of text, and never raises.
"""

from __future__ import annotations

from email.header import decode_header, make_header


def decode(value: bytes | str | None) -> str:
    """Header bytes as a person reads them: RFC 2047 decoded, 8-bit tolerated, never raising."""
    if value is None:
        return ""
    if isinstance(value, bytes) and value.isascii() and b"=?" not in value and b"\0" not in value:
        return " ".join(value.decode("ascii").split())  # the common case, without the decoder
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if isinstance(value, bytes) and "\ufffd" in raw:
        raw = value.decode("latin-1")
    try:
        decoded = str(make_header(decode_header(raw)))
    except (LookupError, UnicodeError, ValueError):  # unknown charset, broken encoded word
        decoded = raw
    # NUL (raw, or encoded as =00) is no character anyone reads, and PostgreSQL refuses it.
    return " ".join(decoded.replace("\0", " ").split())
