"""The outbox's answers to other apps' signals (connected in OutboxConfig.ready)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import MailAccount
from accounts.signals import delivery_report_found, smtp_password_replaced
from outbox import bounces, delivery, recipients, tasks
from outbox.models import OutgoingMessage
from webmail.protocol.dsn import DeliveryReport


@receiver(smtp_password_replaced, dispatch_uid="outbox.release_hold")
def release_held_mail(sender: object, account: MailAccount, **kwargs: Any) -> int:
    """The refused password was replaced: the mail that waited for it goes out now."""
    released = delivery.release_hold(account)
    transaction.on_commit(lambda: tasks.ring_each(released))
    return len(released)


@receiver(delivery.mail_still_due, dispatch_uid="outbox.ring_again")
def ring_again(sender: object, account_id: uuid.UUID, message_id: str, **kwargs: Any) -> None:
    """A run's time was up with its account's mail still due: ring for another run."""
    tasks.ring_doorbell(account_id, message_id)


@receiver(delivery_report_found, dispatch_uid="outbox.apply_report")
def apply_delivery_report(sender: object, account_id: uuid.UUID, report: DeliveryReport, **kwargs: Any) -> int:
    """A bounce or delay report arrived: the recipients it is about show what happened."""
    return bounces.apply(account_id, report)


@receiver(post_save, sender=OutgoingMessage, dispatch_uid="outbox.collect_correspondents")
def collect_correspondents(sender: object, instance: OutgoingMessage, created: bool, **kwargs: Any) -> None:
    """A message was queued: once it is committed, its recipients are the user's correspondents
    (a failure there is logged, never the sender's problem)."""
    if created:
        transaction.on_commit(lambda: recipients.collect(instance), robust=True)
