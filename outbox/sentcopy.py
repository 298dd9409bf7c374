"""Filing a copy of each accepted message in the sender's IMAP Sent folder, exactly once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.crypto import SecretError
from outbox.models import OutgoingMessage, SentCopy
from webmail.protocol import imap
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# While one worker appends, others leave the copy alone for this long.
CLAIM_SECONDS = 600


def retry_after(attempts: int) -> timedelta:
    """How long a chore after sending (this copy, flagging the original) waits after its
    ``attempts``-th failure: 1 minute, doubling, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2**attempts))


def due_copies(now: datetime | None = None, limit: int = 200) -> list[str]:
    now = now or timezone.now()
    return [
        str(i)
        for i in OutgoingMessage.objects.filter(sent_copy=SentCopy.PENDING, sent_copy_due_at__lte=now)
        .order_by("sent_copy_due_at")
        .values_list("id", flat=True)[:limit]
    ]


def save_sent_copy(message_id: str) -> None:
    now = timezone.now()
    claimed = OutgoingMessage.objects.filter(
        pk=message_id, sent_copy=SentCopy.PENDING, sent_copy_due_at__lte=now
    ).update(sent_copy_due_at=now + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return
    message = OutgoingMessage.objects.select_related("account").get(pk=message_id)
    account = message.account
    try:
        with imap.logged_in(account) as client:
            folder = imap.sent_folder(client, account.sent_folder)
            imap.append_once(client, folder, bytes(message.mime), message.message_id, message.created_at)
    except (MailServerError, SecretError) as exc:
        attempts = message.sent_copy_attempts + 1
        gave_up = attempts >= MAX_ATTEMPTS
        log.warning("saving the Sent copy of %s failed (attempt %d): %s", message_id, attempts, exc)
        OutgoingMessage.objects.filter(pk=message_id).update(
            sent_copy=SentCopy.FAILED if gave_up else SentCopy.PENDING,
            sent_copy_attempts=attempts,
            sent_copy_due_at=now + retry_after(attempts),
        )
        return
    OutgoingMessage.objects.filter(pk=message_id).update(
        sent_copy=SentCopy.DONE, sent_copy_attempts=message.sent_copy_attempts + 1
    )
