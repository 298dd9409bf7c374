"""Warnings shown above a message whose sender may not be who it claims to be.

Authentication-Results headers are believed only when our own MTA wrote them (its authserv-id is
WEBMAIL_AUTHSERV_ID); anyone can write such a header into a message they send.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.utils.translation import gettext as _

from webmail.mailbox.message import ParsedMessage

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
