"""The message a sent reply answers gets \\Answered, the one a sent forward forwards gets
$Forwarded: on the IMAP server, where every mail client sees it, and in the envelope cache.

Only once the answer is sent (the server accepted it), only once, and never at the cost of the
answer: a mail server that is down is tried again later with backoff, like the Sent copy
(``sentcopy``); the sweeper publishes what is due. A message that moved or was deleted
meanwhile is simply not there to flag.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.crypto import SecretError
from outbox.models import AnswerFlag, MessageState, OutgoingMessage, SentCopy
from outbox.sentcopy import CLAIM_SECONDS, retry_after  # the same pace as the Sent copy's
from webmail.mailbox.models import MessageSummary
from webmail.protocol import imap
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def _pending(now: datetime):
    return OutgoingMessage.objects.filter(
        state=MessageState.SENT, answer_flag_state=SentCopy.PENDING, answer_flag_due_at__lte=now
    )


def due(now: datetime | None = None, limit: int = 200) -> list[str]:
    """Sent answers whose original is still to be flagged."""
    rows = _pending(now or timezone.now()).order_by("answer_flag_due_at").values_list("id", flat=True)[:limit]
    return [str(i) for i in rows]


def flag_original(message_id: str) -> None:
    now = timezone.now()
    if not _pending(now).filter(pk=message_id).update(answer_flag_due_at=now + timedelta(seconds=CLAIM_SECONDS)):
        return  # not sent yet, done already, or another worker is on it
    message = OutgoingMessage.objects.select_related("answers_folder__account").get(pk=message_id)
    folder, uid = message.answers_folder, message.answers_uid
    if folder is None or uid is None:  # the folder was deleted since
        OutgoingMessage.objects.filter(pk=message_id).update(answer_flag_state=SentCopy.NOT_NEEDED)
        return
    try:
        with imap.session(folder.account) as client:
            imap.set_flags(client, folder.name, [uid], [message.answer_flag])
    except (MailServerError, SecretError, imap.UnsafeArgument) as exc:
        attempts = message.answer_flag_attempts + 1
        log.warning("flagging the original of %s failed (attempt %d): %s", message_id, attempts, exc)
        OutgoingMessage.objects.filter(pk=message_id).update(
            answer_flag_state=SentCopy.FAILED if attempts >= MAX_ATTEMPTS else SentCopy.PENDING,
            answer_flag_attempts=attempts,
            answer_flag_due_at=now + retry_after(attempts),
        )
        return
    if message.answer_flag == AnswerFlag.ANSWERED:  # the cache keeps \Answered, not keywords
        MessageSummary.objects.filter(folder=folder, uid=uid).update(answered=True)
    OutgoingMessage.objects.filter(pk=message_id).update(
        answer_flag_state=SentCopy.DONE, answer_flag_attempts=message.answer_flag_attempts + 1
    )
