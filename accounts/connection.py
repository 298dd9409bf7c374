""" "Test connection": log in to an account's IMAP and SMTP servers and say what happened."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.crypto import SecretError
from accounts.models import ConnectionCheck, MailAccount, User
from webmail.protocol import imap, smtp
from webmail.protocol.mailservers import MailServerError, describe_certificate, is_trust_failure

WINDOW = timedelta(hours=1)
UNFINISHED = "the test did not finish"


class TooManyChecks(Exception):
    def __init__(self, retry_at) -> None:
        super().__init__("too many connection tests")
        self.retry_at = retry_at


def _run(check) -> tuple[bool, str, bool]:
    """(worked, what happened, whether the server's certificate was not trusted)."""
    try:
        return True, check(), False
    except MailServerError as exc:
        return False, str(exc), is_trust_failure(exc)
    except SecretError:
        return False, "the stored password cannot be decrypted; an admin must set it again", False


def _certificate(fetch, account: MailAccount) -> dict | None:
    try:
        der = fetch(account)
    except MailServerError:
        return None
    return describe_certificate(der) if der else None


def _claim(account: MailAccount, requested_by) -> ConnectionCheck:
    """Count this user's recent tests and record this one in a single step, so that requests at
    the same moment cannot all pass the limit: each waits for the user's row lock (SQLite's
    IMMEDIATE transactions take turns anyway)."""
    limit = settings.WEBMAIL_CONNECTION_TESTS_PER_HOUR
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=requested_by.pk).exists()
        recent = ConnectionCheck.objects.recent_for(requested_by, WINDOW)
        if recent.count() >= limit:
            oldest = recent.order_by("created_at").values_list("created_at", flat=True)[0]
            raise TooManyChecks(oldest + WINDOW)
        return ConnectionCheck.objects.create(
            account=account,
            requested_by=requested_by,
            created_at=timezone.now(),
            imap_ok=False,
            imap_message=UNFINISHED,
            smtp_ok=False,
            smtp_message=UNFINISHED,
        )


def check_account(account: MailAccount, requested_by) -> ConnectionCheck:
    """Run both checks (each bounded by WEBMAIL_CONNECT_TIMEOUT) and record the outcome.

    Raises TooManyChecks when ``requested_by`` has used up WEBMAIL_CONNECTION_TESTS_PER_HOUR.
    When a server's certificate is not trusted, the certificate it presents is fetched again
    without verification (a handshake and nothing more) and kept with the result, for an admin
    to check and pin.
    """
    check = _claim(account, requested_by)
    check.imap_ok, imap_message, imap_untrusted = _run(lambda: imap.check_login(account))
    check.smtp_ok, smtp_message, smtp_untrusted = _run(lambda: smtp.check_login(account))
    check.imap_message, check.smtp_message = imap_message[:500], smtp_message[:500]
    certificates = {}
    if imap_untrusted and (seen := _certificate(imap.peer_certificate, account)):
        certificates["imap"] = seen
    if smtp_untrusted and (seen := _certificate(smtp.peer_certificate, account)):
        certificates["smtp"] = seen
    check.certificates = certificates
    check.save(update_fields=["imap_ok", "imap_message", "smtp_ok", "smtp_message", "certificates"])
    return check
