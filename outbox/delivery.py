"""The submission worker: claim due messages, submit them, record what happened.

A worker claims rows with a conditional UPDATE that stamps its own lease token, so two workers
never take the same message. No transaction is open while SMTP is spoken. All database work of
one run happens on one thread, in small batches: under load, the marks "DATA is about to be
sent" and the results of many messages share a transaction; on an idle queue each is written
at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.mailservers import MailServerError
from accounts.models import MailAccount
from outbox import smtp
from outbox.models import (
    CANCELLABLE,
    CLAIMABLE,
    UNSETTLED,
    DeliveryAttempt,
    MessageState,
    OutgoingMessage,
    Phase,
    Recipient,
    RecipientState,
    SentCopy,
)

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
RUN_BUDGET_SECONDS = 30
UNCERTAIN_TEXT = (
    "The worker stopped after the message was sent and before the server's answer was recorded: "
    "it may or may not have been delivered. It will not be resent unless you ask."
)


# -- claiming ---------------------------------------------------------------------------------


def _due(now: datetime):
    return OutgoingMessage.objects.filter(
        state__in=CLAIMABLE, due_at__lte=now, account__smtp_held_at__isnull=True
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def claim(account_id, first_id: str | None = None, limit: int = CLAIM_BATCH) -> tuple[str, list[smtp.Envelope]]:
    """Take up to ``limit`` due messages of one account; returns the lease token and envelopes."""
    now = timezone.now()
    token = uuid.uuid4().hex
    due = _due(now).filter(account_id=account_id)
    ids = list(due.order_by("due_at").values_list("id", flat=True)[:limit])
    if first_id is not None and first_id not in {str(i) for i in ids}:
        ids = [first_id, *ids[: limit - 1]]
    if not ids:
        return token, []
    # The conditions are repeated in the UPDATE, on this table alone (no join, no subquery), so
    # that PostgreSQL re-checks them on a row another worker just claimed: whichever UPDATE
    # lands first gets the row, and the other finds it no longer claimable.
    if MailAccount.objects.filter(pk=account_id, smtp_held_at__isnull=False).exists():
        return token, []
    OutgoingMessage.objects.filter(id__in=ids, state__in=CLAIMABLE, due_at__lte=now).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(
        state=MessageState.SENDING,
        lease_owner=token,
        lease_until=now + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS),
        phase=Phase.ENVELOPE,
        attempts=F("attempts") + 1,
    )
    rows = list(
        OutgoingMessage.objects.filter(id__in=ids, lease_owner=token, state=MessageState.SENDING)
        .order_by("due_at")
        .values("id", "sender", "mime", "delivery_receipt", "user_id")
    )
    recipients: dict[Any, list[smtp.EnvelopeRecipient]] = {}
    for rid, message_id, address in Recipient.objects.filter(
        message_id__in=[r["id"] for r in rows], state__in=UNSETTLED
    ).values_list("id", "message_id", "address"):
        recipients.setdefault(message_id, []).append(smtp.EnvelopeRecipient(rid, address))
    envelopes = [
        smtp.Envelope(
            message_id=str(row["id"]),
            sender=row["sender"],
            recipients=recipients.get(row["id"], []),
            data=bytes(row["mime"]),
            delivery_receipt=row["delivery_receipt"],
        )
        for row in rows
    ]
    return token, envelopes


def _sender_allowed(account: MailAccount, envelopes: list[smtp.Envelope]) -> dict[str, bool]:
    """Checked again here, not only at compose time: the identity may have been removed since."""
    allowed = set(account.identities.values_list("address", flat=True))
    return {e.message_id: e.sender.lower() in {a.lower() for a in allowed} for e in envelopes}


# -- recording --------------------------------------------------------------------------------


@dataclass
class Outcome:
    message_id: str
    result: smtp.SubmissionResult | None = None
    state: str | None = None  # set for outcomes decided without a submission (held, refused ...)
    error: str = ""
    tls_version: str = ""
    tls_cipher: str = ""


def backoff(attempts: int, hint: int | None = None) -> timedelta:
    base = min(settings.WEBMAIL_RETRY_CAP_SECONDS, settings.WEBMAIL_RETRY_START_SECONDS * 2 ** max(0, attempts - 1))
    delay = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy
    if hint:
        delay = max(delay, min(hint, settings.WEBMAIL_RETRY_CAP_SECONDS))
    return timedelta(seconds=delay)


def write_batch(token: str, marks: list[str], outcomes: list[Outcome]) -> None:
    """Runs on the database thread: DATA marks first, then results, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        if marks:
            OutgoingMessage.objects.filter(id__in=marks, lease_owner=token).update(phase=Phase.DATA)
        if outcomes:
            _apply(token, outcomes, now)


# What settling a message writes.
SETTLED_FIELDS = [
    "state",
    "next_attempt_at",
    "lease_owner",
    "lease_until",
    "phase",
    "sent_at",
    "last_error",
    "sent_copy",
    "sent_copy_due_at",
]


def _apply(token: str, outcomes: list[Outcome], now: datetime) -> None:
    by_id = {o.message_id: o for o in outcomes}
    # Only the columns needed (not the message bytes), and only these rows locked.
    messages = {
        str(m.id): m
        for m in OutgoingMessage.objects.select_for_update()
        .filter(id__in=list(by_id), lease_owner=token)
        .only("id", "account_id", "attempts", "expires_at", *SETTLED_FIELDS)
    }
    saves_sent = dict(
        MailAccount.objects.filter(id__in={m.account_id for m in messages.values()}).values_list(
            "id", "server_saves_sent"
        )
    )
    recipients = list(Recipient.objects.filter(message_id__in=list(messages)))
    by_message: dict[str, list[Recipient]] = {}
    for recipient in recipients:
        by_message.setdefault(str(recipient.message_id), []).append(recipient)
    attempts: list[DeliveryAttempt] = []
    changed_recipients: list[Recipient] = []
    for message_id, message in messages.items():
        outcome = by_id[message_id]
        own = by_message.get(message_id, [])
        result = outcome.result
        if result is not None:
            changed_recipients += _apply_to_recipients(own, result, now)
            attempts += [
                DeliveryAttempt(
                    message=message,
                    recipient_id=ex.recipient_id,
                    attempt=message.attempts,
                    started_at=ex.started_at,
                    duration_ms=ex.duration_ms,
                    step=ex.step,
                    code=ex.reply.code,
                    enhanced_code=ex.reply.enhanced_code,
                    reply=ex.reply.text[:1000],
                    tls_version=outcome.tls_version,
                    tls_cipher=outcome.tls_cipher,
                )
                for ex in result.exchanges
            ]
        _settle_message(message, own, outcome, now, saves_sent.get(message.account_id, False))
    _update_in_groups(Recipient, changed_recipients, ["state", "code", "enhanced_code", "reply", "updated_at"])
    DeliveryAttempt.objects.bulk_create(attempts)
    _update_in_groups(OutgoingMessage, list(messages.values()), SETTLED_FIELDS)


def _update_in_groups(model, objects: list, fields: list[str]) -> None:
    """Rows that end up with the same values share one UPDATE. In a batch nearly all messages
    are sent and nearly all recipients accepted alike, so this is a handful of statements where
    bulk_update would build a CASE per row and field."""
    groups: dict[tuple, list] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, name) for name in fields), []).append(obj.pk)
    for values, ids in groups.items():
        model.objects.filter(pk__in=ids).update(**dict(zip(fields, values, strict=True)))


def _apply_to_recipients(recipients: list[Recipient], result: smtp.SubmissionResult, now: datetime) -> list[Recipient]:
    changed = []
    for recipient in recipients:
        if recipient.id in result.accepted:
            recipient.state, reply = RecipientState.ACCEPTED, None
        elif recipient.id in result.rejected:
            recipient.state, reply = RecipientState.REJECTED, result.rejected[recipient.id]
        elif recipient.id in result.deferred:
            recipient.state, reply = RecipientState.DEFERRED, result.deferred[recipient.id]
        else:
            continue
        if reply is not None:
            recipient.code, recipient.enhanced_code, recipient.reply = (
                reply.code,
                reply.enhanced_code,
                reply.text[:1000],
            )
        else:
            recipient.code, recipient.enhanced_code, recipient.reply = 250, "", ""
        recipient.updated_at = now
        changed.append(recipient)
    return changed


def _settle_message(
    message: OutgoingMessage, recipients: list[Recipient], outcome: Outcome, now: datetime, server_saves_sent: bool
) -> None:
    message.lease_owner, message.lease_until, message.phase = "", None, Phase.NONE
    result = outcome.result
    message.last_error = (outcome.error or (result.error if result else ""))[:1000]
    if outcome.state is not None:
        message.state = outcome.state
    elif result is not None and result.uncertain:
        message.state = MessageState.UNCERTAIN
        message.last_error = f"{UNCERTAIN_TEXT} ({result.error})"[:1000]
    else:
        unsettled = [r for r in recipients if r.state in UNSETTLED]
        taken = [r for r in recipients if r.state not in UNSETTLED and r.state != RecipientState.REJECTED]
        if unsettled:
            retry_at = now + backoff(message.attempts, result.retry_after if result else None)
            if retry_at > message.expires_at:
                for recipient in unsettled:
                    recipient.state = RecipientState.REJECTED
                    recipient.reply = f"gave up after {message.attempts} attempts: {recipient.reply}"[:1000]
                    recipient.updated_at = now
                Recipient.objects.bulk_update(unsettled, ["state", "reply", "updated_at"])
                message.state = MessageState.SENT if taken else MessageState.FAILED
            else:
                message.state, message.next_attempt_at = MessageState.DEFERRED, retry_at
        else:
            message.state = MessageState.SENT if taken else MessageState.FAILED
    if message.state == MessageState.SENT:
        message.sent_at = message.sent_at or now
        message.next_attempt_at = None
        if not server_saves_sent and message.sent_copy == SentCopy.NOT_NEEDED:
            message.sent_copy, message.sent_copy_due_at = SentCopy.PENDING, now


class Journal:
    """The run's database writer: one thread, batches of whatever piled up while it was busy."""

    def __init__(self, token: str, executor: ThreadPoolExecutor) -> None:
        self.token = token
        self.executor = executor
        self._marks: list[tuple[str, asyncio.Future]] = []
        self._outcomes: list[Outcome] = []
        self._task: asyncio.Task | None = None

    async def run(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def mark_data(self, message_id: str) -> None:
        future = asyncio.get_running_loop().create_future()
        self._marks.append((message_id, future))
        self._kick()
        await future

    def record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._marks or self._outcomes:
            marks, self._marks = self._marks, []
            outcomes, self._outcomes = self._outcomes, []
            try:
                await self.run(write_batch, self.token, [m for m, _f in marks], outcomes)
            except Exception as exc:
                log.exception("could not record %d outcome(s); their leases will expire and be swept", len(outcomes))
                for _m, future in marks:
                    future.set_exception(exc)
                continue
            for _m, future in marks:
                future.set_result(None)

    async def close(self) -> None:
        while self._task is not None and not self._task.done():
            await self._task


# -- a run ------------------------------------------------------------------------------------


def deliver(message_id: str) -> None:
    """Send ``message_id`` and whatever else is due for its account, reusing connections."""
    # Most doorbells of a burst find their message already taken by an earlier run: one query.
    account_id = _due(timezone.now()).filter(pk=message_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return
    account = MailAccount.objects.select_related("user").get(pk=account_id)
    if account.smtp_held_at is not None:
        return
    close_old_connections()
    asyncio.run(_run(account, message_id))


async def _run(account: MailAccount, first_id: str | None) -> None:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
    try:
        deadline = time.monotonic() + RUN_BUDGET_SECONDS
        pool: list[smtp.Connection] = []
        first = first_id
        while time.monotonic() < deadline:
            token, envelopes = await asyncio.get_running_loop().run_in_executor(executor, claim, account.pk, first)
            first = None
            if not envelopes:
                break
            journal = Journal(token, executor)
            heartbeat = asyncio.ensure_future(_renew_lease_periodically(journal))
            try:
                held = await _submit_batch(account, envelopes, journal, pool)
            finally:
                heartbeat.cancel()
                await journal.close()
            if held:
                break
        for connection_ in pool:
            if connection_ is not None:
                await connection_.close()
    finally:
        executor.submit(_close_thread_connection).result()
        executor.shutdown(wait=True)


async def _submit_batch(
    account: MailAccount, envelopes: list[smtp.Envelope], journal: Journal, pool: list[smtp.Connection]
) -> bool:
    """Submit over up to WEBMAIL_SMTP_CONNECTIONS connections; True when the account got held."""
    allowed = await journal.run(_sender_allowed, account, envelopes)
    queue: asyncio.Queue[smtp.Envelope] = asyncio.Queue()
    for envelope in envelopes:
        if allowed[envelope.message_id]:
            queue.put_nowait(envelope)
        else:
            journal.record(
                Outcome(envelope.message_id, state=MessageState.FAILED, error="the sender is not one of your addresses")
            )
    held = asyncio.Event()
    width = min(settings.WEBMAIL_SMTP_CONNECTIONS, max(1, queue.qsize()))
    while len(pool) < width:
        pool.append(None)  # opened lazily by its lane

    async def lane(slot: int) -> None:
        while not queue.empty() and not held.is_set():
            envelope = queue.get_nowait()
            connection_ = pool[slot]
            if connection_ is None or connection_.broken or not connection_.client.is_connected:
                try:
                    connection_ = pool[slot] = await smtp.open_connection(account)
                except smtp.AuthenticationRefused as exc:
                    held.set()
                    await journal.run(hold_account, account.pk, str(exc))
                    journal.record(Outcome(envelope.message_id, state=MessageState.HELD, error=str(exc)))
                    return
                except MailServerError as exc:
                    # The server is unreachable for this lane; the rest waits for the next try.
                    journal.record(_connection_failed(envelope, str(exc)))
                    while not queue.empty():
                        journal.record(_connection_failed(queue.get_nowait(), str(exc)))
                    return
            result = await smtp.submit(connection_, envelope, lambda e=envelope: journal.mark_data(e.message_id))
            journal.record(
                Outcome(
                    envelope.message_id, result, tls_version=connection_.tls_version, tls_cipher=connection_.tls_cipher
                )
            )

    await asyncio.gather(*(lane(slot) for slot in range(width)))
    if held.is_set():
        while not queue.empty():
            envelope = queue.get_nowait()
            journal.record(
                Outcome(envelope.message_id, state=MessageState.HELD, error="sending is held for this account")
            )
    return held.is_set()


def renew_lease(token: str) -> None:
    OutgoingMessage.objects.filter(lease_owner=token, state=MessageState.SENDING).update(
        lease_until=timezone.now() + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS)
    )


async def _renew_lease_periodically(journal: Journal) -> None:
    # A slow server must not let the lease lapse under a live worker: the sweeper would hand
    # the messages to another worker and they would go out twice.
    interval = settings.WEBMAIL_SEND_LEASE_SECONDS / 3
    while True:
        await asyncio.sleep(interval)
        await journal.run(renew_lease, journal.token)


def _close_thread_connection() -> None:
    # `connection` resolves to the calling thread's connection: this must run on the DB thread.
    connection.close()


def _connection_failed(envelope: smtp.Envelope, error: str) -> Outcome:
    reply = smtp.Reply(None, error)
    result = smtp.SubmissionResult(deferred={r.id: reply for r in envelope.recipients}, error=error)
    result.exchanges.append(smtp.Exchange("connect", timezone.now(), 0, reply))
    return Outcome(envelope.message_id, result)


# -- holds, the sweeper and the user's buttons --------------------------------------------------


def hold_account(account_id, reason: str) -> None:
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
    for message_id, account_id in _due(now).order_by("due_at").values_list("id", "account_id")[:1000]:
        firsts.setdefault(account_id, str(message_id))
    return list(firsts.values())


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
