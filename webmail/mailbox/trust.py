"""Whether a message's sender is who it claims to be: the warnings shown above a message, and
the rule for "always show remote images from this sender".

Authentication-Results headers are believed only when our own MTA wrote them (its authserv-id is
WEBMAIL_AUTHSERV_ID); anyone can write such a header into a message they send.
"""

from __future__ import annotations

import email.policy
import re
import unicodedata
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from django.conf import settings
from django.utils.translation import gettext as _

from webmail.mailbox import correspondents
from webmail.mailbox.message import ParsedMessage
from webmail.mailbox.models import Correspondent, RemoteImagesAllowed

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*([a-z]+)", re.I)


def authentication_failures(headers: list[str], authserv_id: str) -> set[str]:
    """Methods (dmarc, spf) that failed according to our own server's headers."""
    failed: set[str] = set()
    if not authserv_id:
        return failed
    for header in headers:
        server, _sep, results = header.partition(";")
        if server.strip().split()[0:1] != [authserv_id]:
            continue
        for method, result in _RESULT.findall(results):
            if method.lower() in ("dmarc", "spf") and result.lower() in ("fail", "softfail", "permerror"):
                failed.add(method.lower())
    return failed


def scripts(label: str) -> set[str]:
    found = set()
    for ch in label:
        if ch.isascii() and not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        found.add(name.split(" ")[0] if name else "UNKNOWN")
    return found


def is_mixed_script(domain: str) -> bool:
    """A domain whose labels mix scripts (Latin with Cyrillic, say): the classic look-alike."""
    for label in domain.lower().split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                return True
        if len(scripts(label) - {"DIGIT"}) > 1:
            return True
    return False


def sender_warnings(message: ParsedMessage) -> list[str]:
    warnings = []
    failed = authentication_failures(message.authentication_results, settings.WEBMAIL_AUTHSERV_ID)
    if "dmarc" in failed:
        warnings.append(_("This message failed the sender domain's DMARC check: it may not come from who it claims."))
    elif "spf" in failed:
        warnings.append(_("This message was sent from a server the sender's domain does not allow (SPF failed)."))
    sender = message.from_address.lower()
    for shown in _EMAIL.findall(message.from_name or ""):
        if shown.lower() != sender:
            warnings.append(
                _("The sender's name shows the address %(shown)s, but the message comes from %(real)s.")
                % {"shown": shown, "real": sender or _("an unknown address")}
            )
            break
    domain = sender.rpartition("@")[2]
    if domain and is_mixed_script(domain):
        warnings.append(
            _("The sender's domain %(domain)s mixes alphabets, a trick used to imitate other domains.")
            % {"domain": domain}
        )
    return warnings


def images_listed(user, address: str) -> bool:
    """Whether the user put this From address on their "always show remote images" list."""
    address = RemoteImagesAllowed.normalize(address)
    return bool(address) and RemoteImagesAllowed.objects.filter(user=user, address=address).exists()


def written_to(user, address: str) -> bool:
    """Whether the user has written to this address (the composer's correspondents; mail
    received from it does not count)."""
    normalized = correspondents.normalize(address)
    if not normalized:
        return False
    return Correspondent.objects.filter(user=user, address=normalized, times_written__gt=0).exists()


def sender_for_images(raw: bytes, parsed: ParsedMessage, warnings: list[str]) -> str:
    """The normalized From address that "always show remote images from this sender" may name
    for this message, or "" when the sender cannot be trusted that far.

    Remote images are blocked because loading them tells whoever wrote the message that, when
    and from where it was read. An allowance keyed on the From address hands that to anyone
    who can write the address into a From header, so it counts (and can be given) only for a
    message the sender warnings do not flag: no DMARC or SPF failure reported by our own MTA,
    no other address shown in the display name, no mixed-script (homograph) domain. A flagged
    message keeps its images blocked even when its From address is on the list. We also want
    exactly one From header naming exactly one mailbox (DMARC's own precondition): the parser
    reads only the first address, and the others would ride on its allowance.
    What this cannot catch is a forged From of a domain that publishes neither DMARC nor SPF:
    for such a sender the allowance is only as strong as the domain's own protection, and the
    cost of a forgery is an open receipt (the body stays sandboxed, without script).
    """
    if warnings:
        return ""
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    if sum(1 for name, _value in headers.raw_items() if name.lower() == "from") != 1:
        return ""
    if len(getaddresses([parsed.from_])) != 1:
        return ""
    address = RemoteImagesAllowed.normalize(parsed.from_address)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or len(address) > 320 or any(ch.isspace() or ch in '<>,;"' for ch in address):
        return ""
    return address
