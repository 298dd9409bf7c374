"""The outbox's answers to other apps' signals (connected in OutboxConfig.ready)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from accounts.models import MailAccount
from accounts.signals import smtp_password_replaced
from outbox import delivery, tasks


@receiver(smtp_password_replaced, dispatch_uid="outbox.release_hold")
def release_held_mail(sender, account: MailAccount, **kwargs) -> int:
    """The refused password was replaced: the mail that waited for it goes out now."""
    released = delivery.release_hold(account)
    transaction.on_commit(lambda: tasks.publish_ids(released))
    return len(released)
