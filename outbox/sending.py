"""Storing a message to send: the checks that need the database (whose identity, how many
recipients, the sending limits), then the message and its recipients in one transaction, and
the worker told on commit. ``compose`` built the bytes; nothing here changes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import dates
from accounts.models import User
from outbox import delivery, tasks
from outbox.compose import (
    SEND_LATER_HORIZON,
    Draft,
    build_mime,
    check_header_text,
    send_later_horizon_text,
    too_large_text,
)
from outbox.models import MessageState, OutgoingMessage, Recipient, SentCopy


class SendRefused(Exception):
    """Nothing was queued, for a reason the user is told as is."""


def undo_delay(user: User) -> int:
    return settings.WEBMAIL_UNDO_SECONDS if user.undo_send_seconds is None else user.undo_send_seconds


def check_rate(user: User, now: datetime) -> None:
    """Refuse a message beyond the per-user hourly or daily limit, saying when it is possible again."""
    recent = OutgoingMessage.objects.filter(user=user).exclude(state=MessageState.CANCELLED)
    for window, limit in (
        (timedelta(hours=1), settings.WEBMAIL_SEND_LIMIT_PER_HOUR),
        (timedelta(days=1), settings.WEBMAIL_SEND_LIMIT_PER_DAY),
    ):
        in_window = recent.filter(created_at__gt=now - window).order_by("-created_at")
        # The limit-th newest message in the window: if it exists the limit is reached, and
        # sending is possible again when it leaves the window.
        oldest_counted = in_window.values_list("created_at", flat=True)[limit - 1 : limit].first()
        if oldest_counted is not None:
            retry_at = timezone.localtime(oldest_counted + window, user.zone)
            raise SendRefused(
                _("You have reached the sending limit. You can send again at %(time)s.")
                % {"time": f"{dates.shown(retry_at, 'SHORT_DATETIME_FORMAT')} {retry_at.strftime('%Z')}"}
            )


def _one_sender_at_a_time(user: User) -> None:
    # Held until the caller's transaction ends, so that two tabs cannot both slip under the limit.
    User.objects.select_for_update().filter(pk=user.pk).exists()


def resend(user: User, message: OutgoingMessage) -> OutgoingMessage | None:
    """``delivery.resend``, counted against the per-user limit like any other message."""
    with transaction.atomic():
        _one_sender_at_a_time(user)
        check_rate(user, timezone.now())
        return delivery.resend(message)


def _answering(draft: Draft, now: datetime) -> dict[str, object]:
    if draft.answers is None or not draft.answer_flag:
        return {}
    folder_id, uid = draft.answers
    return {
        "answers_folder_id": folder_id,
        "answers_uid": uid,
        "answer_flag": draft.answer_flag,
        "answer_flag_state": SentCopy.PENDING,
        "answer_flag_due_at": now,
    }


def enqueue(user: User, draft: Draft) -> OutgoingMessage:
    """Store the message and its recipients in one transaction; the worker is told on commit."""
    if draft.identity.user_id != user.pk:
        raise SendRefused(_("You can only send from your own addresses."))
    draft = draft.deduplicated()
    recipients = draft.recipients
    if not recipients:
        raise SendRefused(_("Add at least one recipient."))
    if len(recipients) > settings.WEBMAIL_MAX_RECIPIENTS:
        raise SendRefused(
            _("A message can have at most %(count)d recipients.") % {"count": settings.WEBMAIL_MAX_RECIPIENTS}
        )
    now = timezone.now()
    if draft.send_at is not None and draft.send_at > now + SEND_LATER_HORIZON:
        raise SendRefused(send_later_horizon_text())
    try:
        check_header_text(draft.subject, _("The subject"))
        for attachment in draft.attachments:
            check_header_text(attachment.filename, _("An attachment's name"))
        raw, message_id = build_mime(draft, now=now)
    except ValidationError as exc:
        raise SendRefused(" ".join(exc.messages)) from None
    if len(raw) > settings.WEBMAIL_MAX_MESSAGE_BYTES:
        raise SendRefused(too_large_text(len(raw)))
    due_at = draft.send_at if draft.send_at and draft.send_at > now else now + timedelta(seconds=undo_delay(user))
    with transaction.atomic():
        _one_sender_at_a_time(user)
        check_rate(user, now)
        message = OutgoingMessage.objects.create(
            user=user,
            account=draft.identity.account,
            identity=draft.identity,
            sender=draft.identity.address,
            message_id=message_id,
            subject=draft.subject[:998],
            mime=raw,
            size=len(raw),
            delivery_receipt=draft.delivery_receipt,
            created_at=now,
            due_at=due_at,
            scheduled=draft.send_at is not None and draft.send_at > now,
            expires_at=due_at + timedelta(seconds=settings.WEBMAIL_MESSAGE_LIFETIME_SECONDS),
            **_answering(draft, now),
        )
        Recipient.objects.bulk_create(
            Recipient(message=message, address=mailbox.address, display_name=mailbox.display_name[:200], kind=kind)
            for kind, mailbox in recipients
        )
        transaction.on_commit(lambda: tasks.announce_stored(message))
    return message
