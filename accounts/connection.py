""" "Test connection": log in to an account's IMAP and SMTP servers and say what happened."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.crypto import SecretError
from accounts.mailservers import MailServerError
from accounts.models import ConnectionCheck, MailAccount
from outbox import smtp
from webmail import imap

WINDOW = timedelta(hours=1)


class TooManyChecks(Exception):
    def __init__(self, retry_at) -> None:
        super().__init__("too many connection tests")
        self.retry_at = retry_at


def _run(check) -> tuple[bool, str]:
    try:
        return True, check()
    except MailServerError as exc:
        return False, str(exc)
    except SecretError:
        return False, "the stored password cannot be decrypted; an admin must set it again"


def check_account(account: MailAccount, requested_by) -> ConnectionCheck:
    """Run both checks (each bounded by WEBMAIL_CONNECT_TIMEOUT) and record the outcome.

    Raises TooManyChecks when ``requested_by`` has used up WEBMAIL_CONNECTION_TESTS_PER_HOUR.
    """
    recent = ConnectionCheck.objects.recent_for(requested_by, WINDOW)
    limit = settings.WEBMAIL_CONNECTION_TESTS_PER_HOUR
    if recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True)[0]
        raise TooManyChecks(oldest + WINDOW)
    imap_ok, imap_message = _run(lambda: imap.check_login(account))
    smtp_ok, smtp_message = _run(lambda: smtp.check_login(account))
    return ConnectionCheck.objects.create(
        account=account,
        requested_by=requested_by,
        created_at=timezone.now(),
        imap_ok=imap_ok,
        imap_message=imap_message[:500],
        smtp_ok=smtp_ok,
        smtp_message=smtp_message[:500],
    )
