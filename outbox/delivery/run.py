"""A run: answer a doorbell by sending what is due for one account, over reused connections.

No transaction is open while SMTP is spoken. A run's database work is done on two threads of
its own (see ``journal.Journal``), in batches: under load, the marks "the message is about to be
sent" and the results of many messages share a transaction; on an idle queue each is written at
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import MailAccount
from outbox.delivery import claiming
from outbox.delivery.actions import first_due, hold_account
from outbox.delivery.claiming import claim, sender_allowed
from outbox.delivery.journal import Journal, NotMarked, database_threads
from outbox.delivery.outcomes import EnvelopeOutcome, connection_failed, held, refused
from outbox.delivery.writes import renew_leases
from outbox.models import Doorbell, MessageState, OutgoingMessage
from webmail.protocol import smtp
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

RUN_BUDGET_SECONDS = 30

# Sent (from a run's results thread) when a run stops for its time being up while its account
# still has mail due, with ``account_id`` and ``message_id`` (one of those due): whoever rings
# the workers' doorbells (outbox.receivers) rings again, so that another run carries on.
mail_still_due = Signal()


def deliver(message_id: str) -> None:
    """Answer a doorbell: send what is due for the account of ``message_id``, reusing connections."""
    account_id = OutgoingMessage.objects.filter(pk=message_id).values_list("account_id", flat=True).first()
    if account_id is None:
        return
    # Cleared before looking for due mail, so that whatever is stored from now on rings again.
    Doorbell.objects.filter(account_id=account_id, rung_at__isnull=False).update(rung_at=None)
    if not OutgoingMessage.objects.due(timezone.now()).filter(account_id=account_id).exists():
        return  # most likely taken by a run already under way
    account = MailAccount.objects.select_related("user").get(pk=account_id)
    if account.smtp_held_at is not None:
        return
    close_old_connections()
    asyncio.run(Run(account, message_id).execute())


@dataclass(frozen=True)
class Stop:
    """Why a run stops taking messages; ``outcome`` says what becomes of those it still has."""

    outcome: Callable[[smtp.Envelope], EnvelopeOutcome]


def _connection_failed(error: str) -> Stop:
    return Stop(lambda envelope: connection_failed(envelope, error, timezone.now()))


class Run:
    """Claim due messages of one account in batches and send them over up to
    WEBMAIL_SMTP_CONNECTIONS connections ("lanes"). The next batch is claimed while the lanes
    still have work, so they do not wait for it, but only while the run holds less than
    WEBMAIL_CLAIM_BYTES of messages, queued or being sent: a run holds at most that much plus
    one message."""

    def __init__(self, account: MailAccount, first_id: str | None) -> None:
        self.account = account
        self.first_id = first_id
        self.executors = database_threads()
        self.journal = Journal(self.executors)
        self.batch = claiming.CLAIM_BATCH
        self.width: int = settings.WEBMAIL_SMTP_CONNECTIONS
        self.queue: asyncio.Queue[smtp.Envelope | None] = asyncio.Queue()
        self.hungry = asyncio.Event()  # the lanes are running short of work
        self.stopped: Stop | None = None  # the first reason to stop, once there is one
        self.pool: list[smtp.Connection | None] = [None] * self.width
        self.live: set[int] = set()  # lanes with an open connection
        self.opening: set[int] = set()  # lanes opening one
        self.handed_back: deque[smtp.Envelope] = deque()  # by lanes the server turned away, for the others
        self.budget: int = settings.WEBMAIL_CLAIM_BYTES
        self.holding: dict[str, int] = {}  # message id -> its bytes, from when it is queued until it is done with
        self.held = 0

    async def execute(self) -> None:
        for executor in self.executors:
            executor.submit(close_old_connections)  # first in line: a broken or too old connection goes
        heartbeat = asyncio.ensure_future(_renew_leases_periodically(self.journal))
        try:
            await asyncio.gather(self._feed(), *(self._lane(slot) for slot in range(self.width)))
            if self.handed_back:  # every lane that could have taken them is gone
                self._stop(_connection_failed("no connection to the server was left"))
        finally:
            heartbeat.cancel()
            await self.journal.close()
            for connection in self.pool:
                if connection is not None:
                    await connection.close()

    # -- the bytes the run holds, and stopping ---------------------------------------------------

    def _queue_up(self, envelope: smtp.Envelope) -> None:
        self.holding[envelope.message_id] = len(envelope.data)
        self.held += len(envelope.data)
        self.queue.put_nowait(envelope)

    def _release(self, envelope: smtp.Envelope) -> None:
        # The bytes go now, not when the envelope does: a lane keeps its last one while it
        # waits for the next.
        was = self.held
        self.held -= self.holding.pop(envelope.message_id, 0)
        envelope.data = b""
        if self.held < self.budget <= was:  # room again for the feed that waits for it
            self.hungry.set()

    def _settle(self, outcome: EnvelopeOutcome, envelope: smtp.Envelope) -> None:
        self._release(envelope)
        self.journal.record(outcome)

    def _stop(self, reason: Stop) -> None:
        if self.stopped is None:
            self.stopped = reason
        ends = 0
        while self.handed_back:
            envelope = self.handed_back.popleft()
            self._settle(reason.outcome(envelope), envelope)
        while not self.queue.empty():
            if (queued := self.queue.get_nowait()) is None:
                ends += 1  # put back below: each lane still needs one to finish
            else:
                self._settle(reason.outcome(queued), queued)
        for _ in range(ends):
            self.queue.put_nowait(None)
        self.hungry.set()

    # -- the feed: claims, batch after batch -----------------------------------------------------

    async def _feed(self) -> None:
        deadline, first = time.monotonic() + RUN_BUDGET_SECONDS, self.first_id
        try:
            while self.stopped is None:
                if time.monotonic() > deadline:
                    await self.journal.run(self._ring_again)  # let another run carry on
                    return
                claimed = await self.journal.run(claim, self.account.pk, first, self.batch, self.budget - self.held)
                token, envelopes, ledger = claimed
                first = None
                if not envelopes:
                    return
                self.journal.claimed(token, ledger)
                allowed = await self.journal.run(sender_allowed, self.account, envelopes)
                for envelope in envelopes:
                    self._take(envelope, allowed[envelope.message_id])
                self.hungry.clear()
                if self.queue.qsize() > self.width:
                    await self.hungry.wait()
                while self.held >= self.budget and self.stopped is None:
                    self.hungry.clear()
                    await self.hungry.wait()
        finally:
            for _ in range(self.width):
                self.queue.put_nowait(None)

    def _take(self, envelope: smtp.Envelope, allowed: bool) -> None:
        if self.stopped is not None:
            self.journal.record(self.stopped.outcome(envelope))
        elif allowed:
            self._queue_up(envelope)
        else:
            self.journal.record(refused(envelope))

    def _ring_again(self) -> None:
        if (message_id := first_due(self.account.pk)) is not None:
            mail_still_due.send(sender=Run, account_id=self.account.pk, message_id=message_id)

    # -- the lanes: one connection each ----------------------------------------------------------

    async def _next_envelope(self) -> smtp.Envelope | None:
        envelope = self.handed_back.popleft() if self.handed_back else await self.queue.get()
        if envelope is None and self.handed_back:
            self.queue.put_nowait(None)  # still this lane's to end on, after the handed-back one
            envelope = self.handed_back.popleft()
        return envelope

    async def _lane(self, slot: int) -> None:
        # The first lane dials while the first batch is being claimed: the run was started
        # because something is due, and TLS + AUTH is the longest wait of a lone message.
        dialling = asyncio.ensure_future(smtp.open_connection(self.account)) if slot == 0 else None
        try:
            await self._send(slot, dialling)
        finally:
            if dialling is not None and self.pool[slot] is None:
                with contextlib.suppress(Exception):  # nothing was claimed after all: finish dialling, hang up
                    await (await dialling).close()

    async def _send(self, slot: int, dialling: asyncio.Future[smtp.Connection] | None) -> None:
        while (envelope := await self._next_envelope()) is not None:
            if self.queue.qsize() <= max(self.width, self.batch // 2):
                self.hungry.set()
            connection = self.pool[slot]
            if connection is None or connection.broken or not connection.client.is_connected:
                connection, dialling = await self._connect(slot, envelope, dialling), None
                if connection is None:
                    return
            await self._submit(connection, envelope)
        self.live.discard(slot)

    async def _connect(
        self, slot: int, envelope: smtp.Envelope, dialling: asyncio.Future[smtp.Connection] | None
    ) -> smtp.Connection | None:
        """The lane's connection; None if the lane ends, having settled or handed back ``envelope``."""
        self.live.discard(slot)
        self.opening.add(slot)
        try:
            connection = self.pool[slot] = await (dialling or smtp.open_connection(self.account))
        except smtp.AuthenticationRefused as exc:
            await self.journal.run(hold_account, self.account.pk, str(exc))
            self._settle(EnvelopeOutcome(envelope.message_id, state=MessageState.HELD, error=str(exc)), envelope)
            self._stop(Stop(held))
            return None
        except MailServerError as exc:
            if self.live or self.opening - {slot}:  # the server takes fewer connections than we would like
                log.info("SMTP lane %d of account %s not opened: %s", slot, self.account.pk, exc)
                self.handed_back.append(envelope)
                return None
            self._settle(connection_failed(envelope, str(exc), timezone.now()), envelope)
            self._stop(_connection_failed(str(exc)))
            return None
        finally:
            self.opening.discard(slot)
        self.live.add(slot)
        return connection

    async def _submit(self, connection: smtp.Connection, envelope: smtp.Envelope) -> None:
        self.journal.in_flight += 1
        try:
            result = await smtp.submit(
                connection, envelope, functools.partial(self.journal.mark_data, envelope.message_id)
            )
        except NotMarked:
            log.warning("%s not sent now: it could not be marked as being sent", envelope.message_id)
            return
        finally:
            self.journal.in_flight -= 1
            self._release(envelope)
        outcome = EnvelopeOutcome(envelope.message_id, result, tls_version=connection.tls_version)
        outcome.tls_cipher = connection.tls_cipher
        self.journal.record(outcome)


async def _renew_leases_periodically(journal: Journal) -> None:
    # A slow server must not let a lease lapse under a live worker: the sweeper would hand the
    # messages to another worker, and a message marked for DATA in time would go out twice.
    interval = settings.WEBMAIL_SEND_LEASE_SECONDS / 3
    while True:
        await asyncio.sleep(interval)
        if journal.tokens:
            await journal.run(renew_leases, list(journal.tokens))
