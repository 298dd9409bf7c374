"""Celery tasks of the outbox. Each takes ids, and calls one function that does the work.

The database is the queue; a task is only a doorbell. Losing one (Redis flushed, broker down
while a message was stored) delays the message until the next sweep, never loses it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from outbox import delivery, sentcopy
from outbox.models import Doorbell, OutgoingMessage

log = logging.getLogger(__name__)

# Short delays ride on the broker; anything later is found by the sweeper, so no long ETAs.
MAX_COUNTDOWN_SECONDS = 60
# A doorbell not answered within this time is taken as lost: the next send rings again.
DOORBELL_PATIENCE = timedelta(seconds=30)


@shared_task(ignore_result=True)
def deliver(message_id: str) -> None:
    delivery.deliver(message_id)


@shared_task(ignore_result=True)
def save_sent_copy(message_id: str) -> None:
    sentcopy.save_sent_copy(message_id)


@shared_task(ignore_result=True)
def sweep() -> None:
    for message_id in delivery.sweep():
        publish_id(message_id)
    for message_id in sentcopy.due_copies():
        ring(save_sent_copy, message_id)


def publish(message: OutgoingMessage) -> None:
    """Ring the bell for a stored message; a failure here is logged, and the sweeper covers it."""
    delay = (message.due_at - message.created_at).total_seconds()
    if delay <= 0:
        ring_account(message.account_id, str(message.pk))
    elif delay <= MAX_COUNTDOWN_SECONDS:
        ring(deliver, str(message.pk), countdown=delay)


def ring_account(account_id, message_id: str) -> None:
    """Ring for mail that is due now, unless a doorbell for its account is already on its way:
    the worker that answers it takes everything due (see ``Doorbell``)."""
    now = timezone.now()
    rung_at = Doorbell.objects.filter(account_id=account_id).values_list("rung_at", flat=True).first()
    if rung_at is not None and rung_at >= now - DOORBELL_PATIENCE:
        return  # one is on its way; reading is enough to know it, and most sends of a burst stop here
    quiet = Q(rung_at__isnull=True) | Q(rung_at__lt=now - DOORBELL_PATIENCE)
    if not Doorbell.objects.filter(account_id=account_id).filter(quiet).update(rung_at=now):
        _bell, created = Doorbell.objects.get_or_create(account_id=account_id, defaults={"rung_at": now})
        if not created:
            return  # one is on its way
    if not ring(deliver, message_id):
        Doorbell.objects.filter(account_id=account_id, rung_at=now).update(rung_at=None)


def publish_id(message_id: str) -> None:
    ring(deliver, str(message_id))


def publish_ids(message_ids: list[str]) -> None:
    for message_id in message_ids:
        publish_id(message_id)


def ring(task, message_id: str, countdown: float = 0) -> bool:
    try:
        task.apply_async((str(message_id),), countdown=countdown or None, retry=False)
    except Exception:  # broker down: the row is committed and the sweeper will find it
        log.warning("could not publish %s for %s; the sweeper will pick it up", task.name, message_id, exc_info=True)
        return False
    return True
