"""Answering a message: whom a reply goes to and from which of the user's identities, its
subject and thread headers, and the quoted text; a forward's subject and header block.

Everything here works on the original's bytes and the user's identities, and touches neither
the database nor a server: the composer page asks, the person edits, ``compose`` checks again.

- Reply goes to Reply-To if there is one, else From. Reply all adds the original To and Cc.
  Every address of the user's own identities is left out, and each address appears once
  (the domain compared without case, in its IDNA form).
- A message the user sent (From is one of their addresses) is answered to its recipients.
- A mailing-list message (List-Post) is answered to the list by Reply all; the list is never
  the sender, since the sender is always one of the user's identities.
- The identity is the one the original was addressed to (To, Cc, Delivered-To,
  X-Original-To), else the default one.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from inscriptis import get_text

from accounts import dates
from accounts.models import Identity
from outbox import richtext
from outbox.compose import MAX_REFERENCES_LENGTH, MESSAGE_ID, Attachment, Mailbox, guess_content_type
from webmail.mailbox.message import parts_bytes
from webmail.mailbox.message import read as read_message
from webmail.protocol import headers

# Reply prefixes in the languages mail clients write them in; one "Re: " replaces them all.
_REPLY_PREFIX = re.compile(r"^(\s*(re|aw|sv|vs|antw|ref|rif|odp|res)\s*(\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^(\s*(fwd?|wg|tr|rv|enc|vb|doorst)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# RFC 5322 3.6.4 lets a long References be trimmed; keep the first (the thread's root) and the
# newest ones, within what one header line comfortably holds.
MAX_REFERENCES = 20


class How(StrEnum):
    REPLY = "reply"
    REPLY_ALL = "all"
    FORWARD = "forward"
    FORWARD_ATTACHED = "attached"  # the original as a message/rfc822 attachment, nothing quoted

    @property
    def forwards(self) -> bool:
        return self in (How.FORWARD, How.FORWARD_ATTACHED)


@dataclass
class Original:
    """What answering needs of a message, read from its bytes."""

    message_id: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    from_: list[tuple[str, str]] = field(default_factory=list)
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    list_post: str = ""
    text: str = ""
    html: str = ""


@dataclass
class Answer:
    """A composer filled in to answer ``Original``; every field stays editable."""

    identity: Identity | None
    to: list[Mailbox]
    cc: list[Mailbox]
    subject: str
    body: str
    in_reply_to: str = ""
    references: str = ""
    html: str = ""  # the same body for the rich-text composer (outbox.richtext's allow-list)


def _ids(value: str) -> list[str]:
    """The Message-IDs in a header that ours may repeat (what compose accepts, one line each)."""
    return [found for found in MESSAGE_ID.findall(value) if len(found) <= 998]


def read_original(raw: bytes, text: str, html: str) -> Original:
    """The original's headers from ``raw``; ``text`` and ``html`` are its bodies as the reading
    pane has them (``webmail.mailbox.message.read``), the text preferred for quoting."""
    # The headers only: the bodies come from the reading pane's parse.
    message = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)

    def value(name: str) -> str:
        item = message.get(name)
        return headers.decode(str(item)) if item is not None else ""

    def addresses(name: str) -> list[tuple[str, str]]:
        found = [headers.decode(str(item)) for item in message.get_all(name, [])]
        return [(display, address) for display, address in getaddresses(found) if "@" in address]

    try:
        date = parsedate_to_datetime(value("Date")) if value("Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    if date is not None and timezone.is_naive(date):
        date = date.replace(tzinfo=UTC)
    list_post = re.search(r"<mailto:([^>?]+)", value("List-Post"), re.IGNORECASE)
    return Original(
        message_id=next(iter(_ids(value("Message-ID"))), ""),
        references=_ids(value("References")) or _ids(value("In-Reply-To"))[:1],
        subject=value("Subject"),
        date=date,
        from_=addresses("From"),
        reply_to=addresses("Reply-To"),
        to=addresses("To"),
        cc=addresses("Cc"),
        delivered_to=[a for _name, a in addresses("Delivered-To") + addresses("X-Original-To")],
        list_post=list_post.group(1) if list_post else "",
        text=text if text.strip() or not html else get_text(html),
        html=html,
    )


# -- subjects and thread headers ------------------------------------------------------------------


def reply_subject(subject: str) -> str:
    return f"Re: {_REPLY_PREFIX.sub('', subject).strip()}"


def forward_subject(subject: str) -> str:
    return f"Fwd: {_FORWARD_PREFIX.sub('', subject).strip()}"


def references(original: Original) -> str:
    """The original's References and its Message-ID, trimmed to the first and the newest."""
    chain = [*original.references, *([original.message_id] if original.message_id else [])]
    chain = list(dict.fromkeys(chain))  # once each, in order
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    while len(chain) > 2 and len(" ".join(chain)) > MAX_REFERENCES_LENGTH:
        del chain[1]  # very long ids: fewer of the middle ones
    return " ".join(chain)


# -- addresses ------------------------------------------------------------------------------------


def address_key(address: str) -> str:
    """An address as compared for duplicates: the local part as written, the domain without
    case and in its ASCII (IDNA) form."""
    local, _at, domain = address.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):  # not a domain IDNA takes: compared as it is
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain.lower()}"


def _own_key(address: str) -> str:
    # The user's own addresses are matched without any case: a reply never goes to oneself.
    return address_key(address).lower()


def _mailboxes(pairs: Iterable[tuple[str, str]], skip: set[str], seen: set[str]) -> list[Mailbox]:
    kept = []
    for display, address in pairs:
        key = address_key(address)
        if _own_key(address) in skip or key in seen:
            continue
        seen.add(key)
        kept.append(Mailbox(display_name=display, address=key))
    return kept


def recipients(original: Original, own: Sequence[str], how: How) -> tuple[list[Mailbox], list[Mailbox]]:
    """To and Cc of the answer (Forward: nobody)."""
    if how.forwards:
        return [], []
    mine = {_own_key(address) for address in own}
    sent_by_me = any(_own_key(address) in mine for _name, address in original.from_)
    seen: set[str] = set()
    if sent_by_me:  # answering one's own message: to whom it went
        to = _mailboxes(original.to, mine, seen)
        cc = _mailboxes(original.cc, mine, seen) if how == How.REPLY_ALL else []
        if not to and not cc:  # a note to oneself
            to = _mailboxes(original.from_[:1], set(), set())
        return to, cc
    if how == How.REPLY_ALL and original.list_post:
        to = _mailboxes([("", original.list_post)], mine, seen)
        cc = _mailboxes([*(original.reply_to or original.from_), *original.to, *original.cc], mine, seen)
        return to, cc
    to = _mailboxes(original.reply_to or original.from_, mine, seen)
    cc = _mailboxes([*original.to, *original.cc], mine, seen) if how == How.REPLY_ALL else []
    return to, cc


def identity_for(original: Original, identities: Sequence[Identity]) -> Identity | None:
    """The identity the original was addressed to (To, Cc, Delivered-To, X-Original-To), or the
    one that sent it, else the default identity."""
    by_key = {_own_key(identity.address): identity for identity in identities}
    addressed = [a for _n, a in original.to + original.cc] + original.delivered_to + [a for _n, a in original.from_]
    for address in addressed:
        if (identity := by_key.get(_own_key(address))) is not None:
            return identity
    return next((identity for identity in identities if identity.is_default), identities[0] if identities else None)


# -- the body -------------------------------------------------------------------------------------


def _when(original: Original, zone: ZoneInfo) -> str:
    if original.date is None:
        return _("an unknown date")
    return dates.shown(timezone.localtime(original.date, zone), "DATETIME_FORMAT")


def _who(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name} <{address}>" if name else address for name, address in pairs)


def quoted(original: Original, zone: ZoneInfo) -> str:
    """The attribution line and the original, each line behind "> "; the cursor goes above."""
    name = original.from_[0][0] or original.from_[0][1] if original.from_ else _("someone")
    attribution = _("On %(date)s, %(name)s wrote:") % {"date": _when(original, zone), "name": name}
    lines = original.text.replace("\r\n", "\n").rstrip("\n").split("\n")
    quote = "\n".join(f"> {line}" if line and not line.startswith(">") else f">{line}" for line in lines)
    return f"\n\n{attribution}\n{quote}\n"


def _original_html(original: Original, *, images: bool = False) -> str:
    # The original's HTML within the composer's allow-list, else its text. A reply quotes no
    # pictures; a forward keeps those ``with_inline_images`` made data: URLs.
    if original.html.strip():
        return richtext.sanitize_composed(original.html, images=images)
    return richtext.text_to_html(original.text.rstrip("\n"))


_CID_SOURCE = re.compile(r"""cid:([^"'\s>]+)""")
# Pictures a forward carries inline, at most this much of them (the rest are dropped from the text).
MAX_INLINE_FORWARD_BYTES = 5 * 1024 * 1024
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def with_inline_images(html: str, raw: bytes, inline_parts: dict[str, int]) -> str:
    """The original's HTML with its inline pictures (``cid:``) as ``data:`` URLs, so that a
    forward shows them in the composer and sends them inline again (``richtext.inline_images``)."""
    wanted = {cid: inline_parts[cid] for cid in set(_CID_SOURCE.findall(html)) if cid in inline_parts}
    if not wanted:
        return html
    found = {part.index: (part, data) for part, data in parts_bytes(raw, set(wanted.values()))}
    urls: dict[str, str] = {}
    total = 0
    for cid, index in sorted(wanted.items()):
        part, data = found.get(index, (None, b""))
        if part is None or part.content_type not in INLINE_TYPES or total + len(data) > MAX_INLINE_FORWARD_BYTES:
            continue
        total += len(data)
        urls[cid] = f"data:{part.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return _CID_SOURCE.sub(lambda match: urls.get(match.group(1), match.group(0)), html)


def quoted_html(original: Original, zone: ZoneInfo) -> str:
    """``quoted`` for the rich-text composer: the attribution, then a ``<blockquote type="cite">``."""
    attribution = quoted(original, zone).split("\n")[2]
    quote = f'<blockquote type="cite">{_original_html(original)}</blockquote>'
    return f"<div><br></div><div>{escape(attribution)}</div>{quote}"


def forwarded_html(original: Original, zone: ZoneInfo) -> str:
    head, block = forwarded(original, zone).strip("\n").split("\n", 1)
    rows = block.split("\n\n", 1)[0].split("\n")
    lines = "<br>".join(escape(row) for row in [head, *rows])
    return f"<div><br></div><div>{lines}</div><div><br></div>{_original_html(original, images=True)}"


def forwarded(original: Original, zone: ZoneInfo) -> str:
    """The forwarded message's header block, then its text as it was."""
    rows = [
        (_("From"), _who(original.from_)),
        (_("Date"), _when(original, zone)),
        (_("Subject"), original.subject),
        (_("To"), _who(original.to)),
        *([(_("Cc"), _who(original.cc))] if original.cc else []),
    ]
    block = "\n".join(f"{label}: {value}" for label, value in rows)
    return f"\n\n{_('---------- Forwarded message ----------')}\n{block}\n\n{original.text.rstrip()}\n"


def answer(original: Original, identities: Sequence[Identity], how: How, zone: ZoneInfo) -> Answer:
    identity = identity_for(original, identities)
    to, cc = recipients(original, [identity.address for identity in identities], how)
    if how == How.FORWARD:
        subject = forward_subject(original.subject)
        return Answer(identity, to, cc, subject, forwarded(original, zone), html=forwarded_html(original, zone))
    if how == How.FORWARD_ATTACHED:
        return Answer(identity, to, cc, forward_subject(original.subject), "")
    return Answer(
        identity,
        to,
        cc,
        reply_subject(original.subject),
        quoted(original, zone),
        in_reply_to=original.message_id,
        references=references(original),
        html=quoted_html(original, zone),
    )


def attached_name(subject: str) -> str:
    """The file name a forwarded message travels under: its subject, tamed."""
    return (re.sub(r"[^\w .,()-]+", "", subject).strip()[:80] or "message") + ".eml"


def attached_original(raw: bytes, subject: str) -> Attachment:
    """The original itself, for a forward as attachment: ``message/rfc822``, byte for byte
    (``bodies.attach`` re-encodes it only when its bytes cannot travel in a 7-bit message)."""
    return Attachment(filename=attached_name(subject), content_type="message/rfc822", data=raw)


def forwarded_attachments(raw: bytes) -> list[Attachment]:
    """The original's attachments, as they are on the server, for a forward to carry."""
    indexes = {item.index for item in read_message(raw).attachments}
    return [
        Attachment(filename=part.filename, content_type=guess_content_type(part.filename, part.content_type), data=data)
        for part, data in parts_bytes(raw, indexes)
    ]
