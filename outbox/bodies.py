"""A message's body parts: text/plain as ``format=flowed`` (RFC 3676), with its HTML alternative
and the HTML's inline images when there is one.

The shapes::

    text/plain                                  a plain message
    multipart/alternative: text/plain, text/html
    multipart/alternative: text/plain, multipart/related: text/html, image/*...

and ``compose.build_mime`` adds the attachments around them (multipart/mixed).
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from outbox.richtext import inline_images

# RFC 3676 4.2: lines of at most 78 characters, wrapped at spaces; a longer word stays whole.
FLOWED_WIDTH = 78
_QUOTE = re.compile(r"(?:> ?)*>")


def flowed(text: str) -> str:
    """``text`` encoded as format=flowed (DelSp=no): each long line broken after a space (a soft
    break: the space stays at the line's end), trailing spaces of a hard break removed, a line
    that starts with a space, ">" or "From " space-stuffed, a quoted line's markers (written
    ">>" for depth two, RFC 3676 4.5) repeated on each piece of it. The signature separator "-- " is kept as it is."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "-- ":
            out.append(line)
            continue
        quote = _QUOTE.match(line)
        # RFC 3676 4.5: the depth is the number of ">" in a row, so "> > " is written ">> ".
        prefix = ">" * quote.group(0).count(">") if quote else ""
        content = line[quote.end() :] if quote else line
        if prefix and content.startswith(" "):
            content = content[1:]  # the stuffing space after the markers, written again below
        lead = f"{prefix} " if prefix else ""
        # An unquoted piece may need a stuffing space in front: room is left for it.
        for piece in _pieces(content.rstrip(" "), FLOWED_WIDTH - len(lead) - (0 if prefix else 1)):
            stuff = "" if prefix or not (piece.startswith((" ", "From ")) or piece.startswith(">")) else " "
            out.append(f"{lead}{stuff}{piece}" if piece else prefix)
    return "\n".join(out)


def _pieces(content: str, width: int) -> list[str]:
    """``content`` cut after spaces into pieces of at most ``width`` (a long word is one piece);
    every piece but the last ends with the space it was cut after."""
    if len(content) <= width:
        return [content]
    pieces: list[str] = []
    rest = content
    while len(rest) > width:
        cut = rest.rfind(" ", 0, width)
        if cut <= 0:  # one long word: up to the next space
            cut = rest.find(" ", width)
            if cut < 0:
                break
        pieces.append(rest[: cut + 1])
        rest = rest[cut + 1 :]
    pieces.append(rest)
    return pieces


def set_body(message: EmailMessage, text: str, html: str, *, domain: str) -> None:
    """Give ``message`` its body: ``text`` always, and ``html`` (already sanitized) as an
    alternative, its ``data:`` images turned into inline parts."""
    message.set_content(flowed(text), charset="utf-8")
    message.set_param("format", "flowed")
    if not html:
        return
    html, images = inline_images(html, domain)
    message.add_alternative(html, subtype="html", charset="utf-8")
    if images:
        html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
        assert isinstance(html_part, EmailMessage)
        for image in images:
            html_part.add_related(image.data, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>")


def attach(message: EmailMessage, data: bytes, content_type: str, filename: str) -> None:
    """One attachment. A message (``message/rfc822``: a forward as attachment, an uploaded .eml)
    goes byte for byte when it can travel in a 7-bit message (ASCII, lines of at most 998
    octets; RFC 2046 allows no base64 for it); otherwise its parts are re-encoded to 7 bits by
    the ``email`` package, which keeps what they say but not their bytes."""
    maintype, _sep, subtype = content_type.partition("/")
    if (maintype, subtype) != ("message", "rfc822"):
        message.add_attachment(
            data, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=filename
        )
    elif data.isascii() and all(len(line) <= 998 for line in data.split(b"\n")):
        # Line ends as SMTP has them (an uploaded .eml may have bare LFs, which servers refuse).
        data = re.sub(rb"\r?\n", b"\r\n", data)
        message.add_attachment(data, maintype="message", subtype="rfc822", cte="7bit", filename=filename)
    else:
        _attach_re_encoded(message, data, filename)


def _attach_re_encoded(message: EmailMessage, data: bytes, filename: str) -> None:
    """An 8-bit message re-encoded in 7 bits by the ``email`` package; one it cannot re-encode
    (8-bit text in no declared charset, say) goes as a file, ``application/octet-stream``."""
    inner = email.message_from_bytes(data, policy=email.policy.default)
    try:
        inner.as_bytes(policy=email.policy.SMTP.clone(cte_type="7bit"))
    except (UnicodeError, ValueError, LookupError):
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
        return
    message.add_attachment(inner, disposition="attachment", filename=filename)
    # What it holds is 7-bit now: say so (the package labels it 8bit whatever it holds).
    *_others, part = message.iter_attachments()
    part.replace_header("Content-Transfer-Encoding", "7bit")
