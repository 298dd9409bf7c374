"""Holds, the sweeper and the user's buttons: the changes to messages made outside a run."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import MailAccount
from outbox.delivery.outcomes import UNCERTAIN_TEXT
from outbox.models import CANCELLABLE, CLAIMABLE, MessageState, OutgoingMessage, Phase, Recipient, RecipientState


def hold_account(account_id: uuid.UUID, reason: str) -> None:
    """The account's SMTP password was refused: hold its sending until it is replaced."""
    MailAccount.objects.filter(pk=account_id).update(smtp_held_at=timezone.now(), smtp_hold_reason=reason[:500])
    OutgoingMessage.objects.filter(account_id=account_id, state__in=CLAIMABLE).update(state=MessageState.HELD)


def release_hold(account: MailAccount) -> list[str]:
    """After the password was fixed: held mail is queued again. Returns the ids to publish."""
    with transaction.atomic():
        MailAccount.objects.filter(pk=account.pk).update(smtp_held_at=None, smtp_hold_reason="")
        ids = list(
            OutgoingMessage.objects.filter(account=account, state=MessageState.HELD).values_list("id", flat=True)
        )
        OutgoingMessage.objects.filter(id__in=ids, state=MessageState.HELD).update(
            state=MessageState.QUEUED, next_attempt_at=None
        )
    return [str(i) for i in ids]


def sweep(now: datetime | None = None) -> list[str]:
    """Recover from dead workers and lost doorbells; returns one due message id per account."""
    now = now or timezone.now()
    stale = OutgoingMessage.objects.filter(state=MessageState.SENDING, lease_until__lt=now)
    stale.filter(phase=Phase.DATA).update(
        state=MessageState.UNCERTAIN, lease_owner="", lease_until=None, phase=Phase.NONE, last_error=UNCERTAIN_TEXT
    )
    stale.exclude(phase=Phase.DATA).update(
        state=MessageState.QUEUED, lease_owner="", lease_until=None, phase=Phase.NONE
    )
    firsts: dict[Any, str] = {}
    due = OutgoingMessage.objects.due(now).order_by("due_at")
    for message_id, account_id in due.values_list("id", "account_id")[:1000]:
        firsts.setdefault(account_id, str(message_id))
    return list(firsts.values())


def first_due(account_id: uuid.UUID) -> str | None:
    """The id of a message of the account that is due now, if any."""
    due = OutgoingMessage.objects.due(timezone.now()).filter(account_id=account_id)
    message_id = due.values_list("id", flat=True).first()
    return None if message_id is None else str(message_id)


def cancel(message: OutgoingMessage) -> bool:
    return bool(
        OutgoingMessage.objects.filter(pk=message.pk, state__in=CANCELLABLE).update(state=MessageState.CANCELLED)
    )


def retry_now(message: OutgoingMessage) -> bool:
    now = timezone.now()
    return bool(
        OutgoingMessage.objects.filter(pk=message.pk, state__in=CLAIMABLE).update(
            next_attempt_at=None, due_at=now, state=MessageState.QUEUED
        )
    )


def resend(message: OutgoingMessage) -> OutgoingMessage | None:
    """Send again to the recipients that did not get it (or to all, after an uncertain attempt).

    Once per message: the original is stamped with its copy first, by a conditional UPDATE, so
    a double click or two tabs make one copy."""
    now = timezone.now()
    copy_id = uuid.uuid4()
    with transaction.atomic():
        uncertain = message.state == MessageState.UNCERTAIN
        targets = list(
            message.recipients.exclude(state=RecipientState.REJECTED)
            if uncertain
            else message.recipients.filter(state=RecipientState.REJECTED)
        )
        if not targets:
            return None
        stamped = OutgoingMessage.objects.filter(pk=message.pk, state=message.state, resent_as__isnull=True).update(
            resent_as_id=copy_id,
            **({"state": MessageState.CANCELLED, "last_error": "resent as a new message"} if uncertain else {}),
        )
        if not stamped:
            return None
        copy = OutgoingMessage.objects.create(
            id=copy_id,
            user=message.user,
            account=message.account,
            identity=message.identity,
            sender=message.sender,
            message_id=message.message_id,
            subject=message.subject,
            mime=message.mime,
            size=message.size,
            delivery_receipt=message.delivery_receipt,
            created_at=now,
            due_at=now,
            expires_at=now + timedelta(seconds=settings.WEBMAIL_MESSAGE_LIFETIME_SECONDS),
        )
        Recipient.objects.bulk_create(
            Recipient(message=copy, address=r.address, display_name=r.display_name, kind=r.kind) for r in targets
        )
    return copy
