"""Celery tasks of the outbox. Each takes ids, and calls one function that does the work.

The database is the queue; a task is only a doorbell. Losing one (Redis flushed, broker down
while a message was stored) delays the message until the next sweep, never loses it.

Ringing, from the most to the least considerate: ``announce_stored`` (after a message is stored:
rings when it is due), ``ring_doorbell`` (an account's due mail, once while a doorbell is on its
way), ``ring_each`` (a deliver task per message, whatever is on its way), ``try_publish`` (one
task to the broker, a failure logged).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from celery import Task, shared_task
from django.db.models import Q
from django.utils import timezone

from outbox import answered, delivery, draftcopy, sentcopy
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
    ring_each(delivery.sweep())
    for message_id in sentcopy.due_copies():
        try_publish(save_sent_copy, message_id)
    for message_id in answered.due():
        try_publish(flag_original, message_id)
    for draft_id in draftcopy.due():
        try_publish(mirror_draft, draft_id)
    draftcopy.purge_discarded()


@shared_task(ignore_result=True)
def mirror_draft(draft_id: str) -> None:
    draftcopy.mirror(draft_id)


@shared_task(ignore_result=True)
def flag_original(message_id: str) -> None:
    answered.flag_original(message_id)


def announce_stored(message: OutgoingMessage) -> None:
    """After a message is stored: ring its account's doorbell if it is due now, publish a delayed
    deliver task if it is due within a minute, else leave it to the sweeper (failures are logged)."""
    delay = (message.due_at - message.created_at).total_seconds()
    if delay <= 0:
        ring_doorbell(message.account_id, str(message.pk))
    elif delay <= MAX_COUNTDOWN_SECONDS:
        try_publish(deliver, str(message.pk), countdown=delay)


def ring_doorbell(account_id: uuid.UUID, message_id: str) -> None:
    """Publish a deliver task for an account's due mail, unless its doorbell is already on its
    way: the worker that answers that one takes everything due (see ``Doorbell``)."""
    now = timezone.now()
    rung_at = Doorbell.objects.filter(account_id=account_id).values_list("rung_at", flat=True).first()
    if rung_at is not None and rung_at >= now - DOORBELL_PATIENCE:
        return  # one is on its way; reading is enough to know it, and most sends of a burst stop here
    quiet = Q(rung_at__isnull=True) | Q(rung_at__lt=now - DOORBELL_PATIENCE)
    if not Doorbell.objects.filter(account_id=account_id).filter(quiet).update(rung_at=now):
        _bell, created = Doorbell.objects.get_or_create(account_id=account_id, defaults={"rung_at": now})
        if not created:
            return  # one is on its way
    if not try_publish(deliver, message_id):
        Doorbell.objects.filter(account_id=account_id, rung_at=now).update(rung_at=None)


def ring_each(message_ids: Iterable[str]) -> None:
    """Publish a deliver task for each message, past the doorbell (the sweeper, Retry now, a released hold)."""
    for message_id in message_ids:
        try_publish(deliver, str(message_id))


def try_publish(task: Task, message_id: str, countdown: float = 0) -> bool:
    """Publish one task for a message; False if the broker refused it (logged: the sweeper covers it)."""
    try:
        task.apply_async((str(message_id),), countdown=countdown or None, retry=False)
    except Exception:  # broker down: the row is committed and the sweeper will find it
        log.warning("could not publish %s for %s; the sweeper will pick it up", task.name, message_id, exc_info=True)
        return False
    return True
