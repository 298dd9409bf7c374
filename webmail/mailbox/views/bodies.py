"""What the reading pane, its body document and the print page show of a message: whether
its remote images load, and which of its bodies is shown (the sanitized HTML, or the text
part when the HTML shows nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from webmail.mailbox import tokens
from webmail.mailbox.message import ParsedMessage, parse
from webmail.mailbox.models import Folder
from webmail.mailbox.sanitize import sanitize_html, shows_something, text_to_html
from webmail.mailbox.trust import images_listed, sender_for_images, sender_warnings, written_to

# Shown inline on request; anything else (SVG, HTML, XML, PDF...) is only ever downloaded.
RASTER_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class Images:
    """Whether a message's remote images load, and why."""

    allowed: bool
    sender: str  # the From address the trust checks accept ("" when they flag the message)
    listed: bool  # on the user's "always show images from" list
    written: bool  # allowed because the user wrote to the sender (their setting)


def images_for(user, raw: bytes, parsed: ParsedMessage, warnings: list[str] | None, clicked: bool) -> Images:
    """Remote images load on request (``clicked``), for a listed sender, and, when the user
    chose so, for a sender they have written to; the last two only when the message passes
    the sender checks (``trust.sender_for_images``)."""
    warnings = sender_warnings(parsed) if warnings is None else warnings
    sender = sender_for_images(raw, parsed, warnings)
    listed = images_listed(user, parsed.from_address)
    written = bool(sender) and not listed and not clicked and user.images_from_correspondents
    written = written and written_to(user, sender)
    return Images(clicked or (listed and bool(sender)) or written, sender, listed, written)


def inline_images(raw: bytes, parsed: ParsedMessage) -> dict[str, int]:
    """Content-ID -> part index, for the raster image parts an <img src="cid:..."> may show."""
    images = dict(parsed.inline_parts)
    for item in parsed.attachments:
        if item.content_id:
            images.setdefault(item.content_id, item.index)
    types = {index: item.get_content_type() for index, item in enumerate(parse(raw).walk())}
    return {cid: index for cid, index in images.items() if types.get(index) in RASTER_TYPES}


@dataclass(frozen=True)
class Body:
    html: str  # safe markup: the sanitizer's output
    remote_images: bool = False  # the HTML had remote images (blocked, or shown when allowed)
    truncated: bool = False
    text_instead: bool = False  # the HTML showed nothing: its text/plain alternative is shown


def body_of(folder: Folder, uid: int, raw: bytes, parsed: ParsedMessage, images: bool, *, text: bool = True) -> Body:
    """The body to show; without ``text``, a text-only message's is left out (the reading pane,
    which shows the body in a document of its own, only wants to know about the HTML)."""
    if not parsed.html_body:
        return Body(text_to_html(parsed.text_body) if text else "")
    cids = inline_images(raw, parsed)
    token = tokens.make_cid_token(folder, uid)

    def cid_url(content_id: str) -> str:
        if content_id not in cids:
            return ""  # the sanitizer drops the image
        return f"{reverse('mailbox:cid', args=[folder.pk, uid, content_id])}?{urlencode({'t': token})}"

    cleaned = sanitize_html(parsed.html_body, cid_url=cid_url, allow_remote_images=images)
    if parsed.text_body.strip() and not shows_something(cleaned.html):
        return Body(text_to_html(parsed.text_body), cleaned.has_remote_images, cleaned.truncated, text_instead=True)
    return Body(cleaned.html, cleaned.has_remote_images, cleaned.truncated)
