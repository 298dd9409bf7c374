"""From what a person typed to the message's final bytes: strict addresses, checked headers, MIME.

``outbox.sending`` stores and queues what is built here.

Everything a header is made of is checked here, before the ``email`` package sees it: no CR, LF,
NUL or other control character may reach a header, whether typed or smuggled in an encoded word.
The bytes stored are the bytes submitted and the bytes filed in Sent; Message-ID and Date are
fixed once, here.
"""

from __future__ import annotations

import email.errors
import email.header
import email.policy
import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import Identity
from outbox import bodies, richtext
from outbox.models import RecipientKind

log = logging.getLogger(__name__)

# 7bit forces quoted-printable or base64 bodies and RFC 2047 headers, which every server takes.
POLICY = email.policy.SMTP.clone(cte_type="7bit")
_HEADER_PARSER = email.policy.default.header_factory


@dataclass(frozen=True)
class Mailbox:
    display_name: str
    address: str  # ASCII addr-spec, IDN domain in its A-label form

    def header_value(self) -> Address:
        username, domain = self.address.rsplit("@", 1)
        return Address(display_name=self.display_name, username=username, domain=domain)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Draft:
    identity: Identity
    to: list[Mailbox]
    cc: list[Mailbox] = field(default_factory=list)
    bcc: list[Mailbox] = field(default_factory=list)
    subject: str = ""
    body: str = ""  # the text as sent; with ``html``, its text/plain alternative
    html: str = ""  # sanitized (outbox.richtext.sanitize_composed); pasted images still data: URLs
    attachments: list[Attachment] = field(default_factory=list)
    send_at: datetime | None = None
    delivery_receipt: bool = False
    # An answer's thread headers (see outbox.replies): Message-IDs, "<...@...>" each.
    in_reply_to: str = ""
    references: str = ""
    # The message answered or forwarded (its folder's id, its UID) and the flag it gets once
    # this one is sent (outbox.answered).
    answers: tuple[int, int] | None = None
    answer_flag: str = ""

    @property
    def recipients(self) -> list[tuple[str, Mailbox]]:
        return [
            *((RecipientKind.TO, m) for m in self.to),
            *((RecipientKind.CC, m) for m in self.cc),
            *((RecipientKind.BCC, m) for m in self.bcc),
        ]

    def deduplicated(self) -> Draft:
        """Each address once, where it first appears: To wins over Cc, Cc over Bcc."""
        seen: set[str] = set()

        def first_seen(mailboxes: list[Mailbox]) -> list[Mailbox]:
            kept = []
            for mailbox in mailboxes:
                # Domains are already lower case; servers treat local parts alike in any case.
                key = mailbox.address.lower()
                if key not in seen:
                    seen.add(key)
                    kept.append(mailbox)
            return kept

        return replace(self, to=first_seen(self.to), cc=first_seen(self.cc), bcc=first_seen(self.bcc))


# Line and paragraph separators (U+2028, U+2029) are no control characters, but the email
# package splits lines at them as at CR and LF; word processors put them where a line ended.
LINE_SEPARATORS = {0x2028: " ", 0x2029: " "}


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)


def one_line(value: str) -> str:
    """What a one-line field shows: a pasted line or paragraph separator is a space."""
    return value.translate(LINE_SEPARATORS)


def check_header_text(value: str, what: str) -> str:
    # The email package decodes encoded words (=?utf-8?q?...=0A?=) that a person types, and
    # would write what they decode to: check that too.
    if has_control_characters(value.replace("\t", " ")) or has_control_characters(_decoded_words(value)):
        raise ValidationError(_("%(what)s cannot contain line breaks or control characters.") % {"what": what})
    return value.strip()


def _decoded_words(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return ""


# <left@right>: printable ASCII without "<", ">" or a second "@" (RFC 5322 3.6.4, a little wider).
MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f\x41-\x7e]+@[\x21-\x3b\x3d\x3f\x41-\x7e]+>")
MAX_REFERENCES_LENGTH = 4000


def check_message_ids(value: str, *, many: bool) -> str:
    """A header value of Message-IDs (``<left@right>``, printable ASCII, space separated): one
    for In-Reply-To, any number for References. Anything else is refused, never repaired."""
    ids = value.split()
    if not ids:
        return ""
    if (not many and len(ids) > 1) or len(value) > MAX_REFERENCES_LENGTH or not all(map(MESSAGE_ID.fullmatch, ids)):
        raise ValidationError(_("The message this answers could not be named safely."))
    return " ".join(ids)


def message_ids_or_nothing(value: str, *, many: bool) -> str:
    """``check_message_ids`` for what we keep but do not send (a draft): "" instead of an error."""
    try:
        return check_message_ids(value, many=many)
    except ValidationError:
        return ""


def safe_line(value: str) -> str:
    """One line without control characters: what a draft keeps of a name it could not send."""
    return "".join(ch for ch in one_line(value) if unicodedata.category(ch) != "Cc").strip()


def parse_addresses(raw: str) -> list[Mailbox]:
    """Parse a To/Cc/Bcc field strictly: display names, quoted names and IDN domains allowed."""
    if has_control_characters(raw.replace("\t", " ")):
        raise ValidationError(_("Addresses cannot contain line breaks or control characters."))
    raw = raw.strip().strip(",").strip()
    if not raw:
        return []
    try:
        header = _HEADER_PARSER("To", raw)
    except Exception:  # the parser raises several exception types on garbage
        raise ValidationError(_("This is not a list of email addresses.")) from None
    # A non-ASCII local part parses fine; _mailbox explains why it cannot be sent to.
    if any(not isinstance(defect, email.errors.NonASCIILocalPartDefect) for defect in header.defects):
        raise ValidationError(
            _("Check the addresses: separate them with commas, like Ann <ann@example.org>, bob@example.org.")
        )
    mailboxes: list[Mailbox] = []
    for group in header.groups:
        if group.display_name is not None:
            raise ValidationError(_("Address groups are not supported; list the addresses instead."))
        for address in group.addresses:
            mailboxes.append(_mailbox(address))
    return mailboxes


def _mailbox(address) -> Mailbox:
    shown = f"{address.username}@{address.domain}"
    # Encoded words in a display name are decoded by the parser: check what they decoded to.
    if has_control_characters(address.display_name) or has_control_characters(shown):
        raise ValidationError(_("Addresses cannot contain line breaks or control characters."))
    if not address.username.isascii():
        # Such an address needs the server's SMTPUTF8 extension and an 8-bit message, and the
        # submission path sends 7-bit messages without SMTPUTF8, whatever the server offers.
        raise ValidationError(
            _(
                "%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such "
                "addresses yet, whatever your mail server offers."
            )
            % {"address": shown}
        )
    try:
        domain = address.domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationError(_("%(address)s: the domain is not valid.") % {"address": shown}) from None
    addr_spec = f"{address.username}@{domain}"
    try:
        validate_email(addr_spec)
    except ValidationError:
        raise ValidationError(_("%(address)s is not a valid email address.") % {"address": shown}) from None
    return Mailbox(display_name=address.display_name.strip(), address=addr_spec)


def build_mime(draft: Draft, *, now: datetime) -> tuple[bytes, str]:
    """The final bytes and their Message-ID."""
    identity = draft.identity
    sender = Mailbox(identity.display_name, identity.address)
    message = EmailMessage(policy=POLICY)
    message["From"] = sender.header_value()
    if draft.to:
        message["To"] = [m.header_value() for m in draft.to]
    if draft.cc:
        message["Cc"] = [m.header_value() for m in draft.cc]
    if not draft.to and not draft.cc:
        message["To"] = "undisclosed-recipients:;"
    if draft.subject:
        message["Subject"] = draft.subject
    message["Date"] = format_datetime(now)
    message_id = make_msgid(domain=identity.address.rsplit("@", 1)[1])
    message["Message-ID"] = message_id
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
    if draft.references:
        message["References"] = draft.references
    message["MIME-Version"] = "1.0"
    # The signature is in the body already (outbox.signatures): nothing is appended here.
    bodies.set_body(message, draft.body, draft.html, domain=identity.address.rsplit("@", 1)[1])
    for attachment in draft.attachments:
        bodies.attach(message, attachment.data, attachment.content_type, attachment.filename)
    raw = message.as_bytes()
    _check_headers(raw, draft)
    return raw, message_id


def _check_headers(raw: bytes, draft: Draft) -> None:
    # The last line of defence: whatever went in, the header block says exactly what we meant.
    parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    counts: dict[str, int] = {}
    for name in parsed:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    expected = {"from", "date", "message-id", "mime-version", "content-type"}
    allowed = expected | {"to", "cc", "subject", "content-transfer-encoding"}
    # An answer's two thread headers, and only when the draft has them.
    allowed |= {"in-reply-to"} if draft.in_reply_to else set()
    allowed |= {"references"} if draft.references else set()
    if not expected <= set(counts) or set(counts) - allowed or any(n > 1 for n in counts.values()):
        raise ValidationError(_("The message headers could not be built safely."))


def guess_content_type(filename: str, declared: str | None) -> str:
    # The browser's word for the type is only a hint; an unknown type travels as octet-stream.
    guessed, _encoding = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"


# How far ahead a message may be scheduled: far enough for any plan, near enough that its
# lifetime after that is still a date.
SEND_LATER_HORIZON = timedelta(days=365)


def send_later_horizon_text() -> str:
    return _("Choose a time within the next year.")


# -- the one size limit: WEBMAIL_MAX_MESSAGE_BYTES, the message as sent -------------------------


def encoded_size(size: int) -> int:
    """Bytes an attachment of ``size`` bytes takes in the message: base64, in lines of 76 plus CRLF."""
    encoded = 4 * -(-size // 3)
    return encoded + 2 * -(-encoded // 76)


def estimated_size(body: str, attachment_sizes: list[int], html: str = "") -> int:
    """At most the final size, so that a message refused on this estimate could never have been sent.
    ``html``'s pasted images count as the inline parts they become.

    static/js/compose.js estimates the same way in the browser, before anything is uploaded.
    """
    images = richtext.data_url_sizes(html)
    text = body + richtext.without_data_urls(html)
    return len(text.encode("utf-8", "surrogatepass")) + sum(encoded_size(size) for size in [*images, *attachment_sizes])


def size_limit_text() -> str:
    return _(
        "A message may be at most %(limit)s as sent, attachments included. Attachments take about a third "
        "more than their size on disk."
    ) % {"limit": filesizeformat(settings.WEBMAIL_MAX_MESSAGE_BYTES)}


def too_large_text(size: int | None = None) -> str:
    limit = filesizeformat(settings.WEBMAIL_MAX_MESSAGE_BYTES)
    if size is None:  # the browser's check, which has no size in words
        text = _("The message is too large: the limit is %(limit)s as sent.") % {"limit": limit}
    else:
        text = _("The message is too large: %(size)s as sent, and the limit is %(limit)s.") % {
            "size": filesizeformat(size),
            "limit": limit,
        }
    return text + " " + _("Attachments take about a third more than their size on disk.")
