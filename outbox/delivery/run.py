"""The submission worker: claim due messages, submit them, record what happened.

A worker claims rows with a conditional UPDATE that stamps its own lease token, so two workers
never take the same message. No transaction is open while SMTP is spoken. A run's database work
is done on two threads of its own (see ``Journal``), in batches: under load, the marks "the
message is about to be sent" and the results of many messages share a transaction; on an idle
queue each is written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import MailAccount
from outbox.models import (
    CANCELLABLE,
    CLAIMABLE,
    UNSETTLED,
    DeliveryAttempt,
    Doorbell,
    MessageState,
    OutgoingMessage,
    Phase,
    Recipient,
    RecipientState,
    SentCopy,
)
from webmail.protocol import smtp
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
# Under load, results wait up to RESULTS_LINGER seconds for others to share their write, up to
# RESULTS_BATCH of them: they are not on any message's critical path.
RESULTS_BATCH = 40
RESULTS_LINGER = 0.01
RUN_BUDGET_SECONDS = 30
UNCERTAIN_TEXT = (
    "The worker stopped after the message was sent and before the server's answer was recorded: "
    "it may or may not have been delivered. It will not be resent unless you ask."
)


# -- claiming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """What settling a claimed message needs to know, read once at claim time."""

    token: str  # the lease this run holds on it
    attempts: int
    expires_at: datetime
    previously_taken: bool  # some recipient already accepted it in an earlier attempt
    sent_copy: str
    server_saves_sent: bool


def claim(
    account_id, first_id: str | None = None, limit: int = CLAIM_BATCH, max_bytes: int | None = None
) -> tuple[str, list[smtp.Envelope], dict[str, Claimed]]:
    """Take up to ``limit`` due messages of one account, and no more of them in all than
    ``max_bytes`` (WEBMAIL_CLAIM_BYTES), except that the first is taken whatever its size;
    returns the lease token, the envelopes and what settling them will need."""
    now = timezone.now()
    token = uuid.uuid4().hex
    # The account's hold is read once below, not joined here: ordered by due_at on the
    # "outgoing_claimable" index, the first ``limit`` rows are all the database reads, where
    # the join made it read (and sort) every due message of the account for each batch.
    due = OutgoingMessage.objects.claimable(now).filter(account_id=account_id)
    candidates = list(due.order_by("due_at").values_list("id", "size")[:limit])
    if first_id is not None and first_id not in {str(i) for i, _size in candidates}:
        first = OutgoingMessage.objects.filter(pk=first_id).values_list("id", "size")
        candidates = [*first, *candidates][:limit]
    ids = _within(candidates, settings.WEBMAIL_CLAIM_BYTES if max_bytes is None else max_bytes)
    if not ids:
        return token, [], {}
    # The conditions are repeated in the UPDATE, on this table alone (no join, no subquery), so
    # that PostgreSQL re-checks them on a row another worker just claimed: whichever UPDATE
    # lands first gets the row, and the other finds it no longer claimable.
    saves_sent = MailAccount.objects.filter(pk=account_id).values_list("smtp_held_at", "server_saves_sent").first()
    if saves_sent is None or saves_sent[0] is not None:
        return token, [], {}
    lease_until = now + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS)
    if (pg := _postgres()) is not None:
        rows = _claim_returning(pg, ids, token, now, lease_until)
    else:
        OutgoingMessage.objects.claimable(now).filter(id__in=ids).update(
            state=MessageState.SENDING,
            lease_owner=token,
            lease_until=lease_until,
            phase=Phase.ENVELOPE,
            attempts=F("attempts") + 1,
        )
        rows = list(
            OutgoingMessage.objects.filter(id__in=ids, lease_owner=token, state=MessageState.SENDING)
            .order_by("due_at")
            .values(*CLAIMED_FIELDS)
        )
    recipients: dict[Any, list[smtp.EnvelopeRecipient]] = {}
    taken: set = set()
    for rid, message_id, address, state in Recipient.objects.filter(message_id__in=[r["id"] for r in rows]).values_list(
        "id", "message_id", "address", "state"
    ):
        if state in UNSETTLED:
            recipients.setdefault(message_id, []).append(smtp.EnvelopeRecipient(rid, address))
        elif state != RecipientState.REJECTED:
            taken.add(message_id)
    ledger = {
        str(row["id"]): Claimed(
            token=token,
            attempts=row["attempts"],
            expires_at=row["expires_at"],
            previously_taken=row["id"] in taken,
            sent_copy=row["sent_copy"],
            server_saves_sent=saves_sent[1],
        )
        for row in rows
    }
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
    return token, envelopes, ledger


CLAIMED_FIELDS = ("id", "sender", "mime", "delivery_receipt", "attempts", "expires_at", "sent_copy")


def _within(candidates: list[tuple[Any, int]], max_bytes: int) -> list:
    """The ids of the longest run of (id, size) from the start that fits in ``max_bytes``; at
    least the first, which would otherwise never be sent."""
    ids, total = [], 0
    for message_id, size in candidates:
        total += size
        if ids and total > max_bytes:
            break
        ids.append(message_id)
    return ids


def _claim_returning(pg, ids: list, token: str, now: datetime, lease_until: datetime) -> list[dict]:
    """The claim's UPDATE on PostgreSQL, returning what the run needs in the same statement."""
    statement = (
        f"UPDATE {_table(OutgoingMessage)} SET state = %s, lease_owner = %s, lease_until = %s, phase = %s,"  # noqa: S608
        " attempts = attempts + 1 WHERE id = ANY(%s::uuid[]) AND state = ANY(%s::text[]) AND due_at <= %s"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
        f" RETURNING due_at, {', '.join(CLAIMED_FIELDS)}"
    )
    claimable = [state.value for state in CLAIMABLE]
    values = [MessageState.SENDING.value, token, lease_until, Phase.ENVELOPE.value, [str(i) for i in ids], claimable]
    returned = _execute(pg, statement, [*values, now, now], binary=True)
    return [dict(zip(CLAIMED_FIELDS, row[1:], strict=True)) for row in sorted(returned, key=lambda row: row[0])]


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


def _postgres():
    """The driver's own connection on PostgreSQL, else None. The hot writers of a run use it
    directly: server-side parameters dumped in C, and COPY, cost a fraction of the CPU of the
    ORM with client-side quoting, and the worker's CPU is what limits its throughput. It shares
    Django's connection, so it is inside whatever transaction Django has open on this thread."""
    if connection.vendor != "postgresql":
        return None
    if connection.connection is not None and (connection.connection.closed or connection.connection.broken):
        connection.close()  # failed while used directly, out of sight of Django's error tracking
    # What Django does before a query through the ORM: once per run (close_old_connections
    # re-arms it), make sure a kept connection still works, e.g. after a database restart.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection.connection


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _execute(pg, statement: str, params: list, binary: bool = False) -> list[tuple]:
    """Run one of the hot statements on PostgreSQL with server-side parameters (dumped in C,
    where Django's cursor quotes them in Python); returns its rows, if any. ``binary``: rows
    come back as such, which spares both sides the hex of message bytes. Statements are
    prepared only if the database settings say so (``prepare_threshold``), as for the ORM:
    connection poolers may not keep them."""
    with psycopg.Cursor(pg) as cursor:
        cursor.execute(statement, params, binary=binary)
        return cursor.fetchall() if cursor.description else []


def write_marks(tokens: list[str], message_ids: list[str]) -> set[str]:
    """Runs on the marks thread; committed before the message is sent (its DATA command goes
    out meanwhile). Returns the ids marked: a message whose lease this run lost meanwhile is
    not, and must not be sent."""
    if (pg := _postgres()) is not None:
        statement = (
            f"UPDATE {_table(OutgoingMessage)} SET phase = %s WHERE id = ANY(%s::uuid[])"  # noqa: S608 - names from the model
            " AND lease_owner = ANY(%s::text[]) AND state = %s RETURNING id"
        )
        rows = _execute(pg, statement, [Phase.DATA.value, message_ids, tokens, MessageState.SENDING.value])
        return {str(i) for (i,) in rows}
    marked = OutgoingMessage.objects.filter(id__in=message_ids, lease_owner__in=tokens, state=MessageState.SENDING)
    if marked.update(phase=Phase.DATA) == len(message_ids):
        return set(message_ids)
    return {str(i) for i in marked.filter(phase=Phase.DATA).values_list("id", flat=True)}


def write_results(outcomes: list[Outcome], ledger: dict[str, Claimed]) -> None:
    """Runs on the results thread: a batch of results in one transaction. Written from what the
    run knows, without reading the rows back, and only for the messages whose lease is still
    the one they were sent under: if it was taken back meanwhile, this run's word no longer
    counts."""
    now = timezone.now()
    messages, recipients, attempts = _settled_rows(outcomes, ledger, now)
    if (pg := _postgres()) is not None:
        _write_settled(pg, messages, recipients, attempts, now)  # one statement
        return
    with transaction.atomic():
        ids = [m.pk for m, _token in messages]
        leases = dict(OutgoingMessage.objects.filter(id__in=ids).values_list("id", "lease_owner"))
        owned = {m.pk for m, token in messages if leases.get(uuid.UUID(m.pk)) == token}
        _update_in_groups(Recipient, [r for r in recipients if r.message_id in owned], RECIPIENT_FIELDS)
        DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(**dict(zip(ATTEMPT_FIELDS, row, strict=True))) for row in attempts if row[0] in owned]
        )
        _update_in_groups(OutgoingMessage, [m for m, _token in messages if m.pk in owned], SETTLED_FIELDS)


def _settled_rows(outcomes: list[Outcome], ledger: dict[str, Claimed], now: datetime) -> tuple[list, list, list]:
    """The messages' new states (each with the lease it was sent under), the recipients'
    answers and the attempts (values in ATTEMPT_FIELDS order) of a batch of outcomes."""
    messages: list[tuple[SimpleNamespace, str]] = []  # (new state, the lease it was sent under)
    recipients: list[SimpleNamespace] = []
    attempts: list[tuple] = []  # values in ATTEMPT_FIELDS order
    for outcome in outcomes:
        claimed = ledger[outcome.message_id]
        result = outcome.result
        if result is not None:
            recipients += _recipient_rows(outcome.message_id, result, now)
            attempts += [
                (
                    outcome.message_id,
                    ex.recipient_id,
                    claimed.attempts,
                    ex.started_at,
                    ex.duration_ms,
                    ex.step,
                    ex.reply.code,
                    ex.reply.enhanced_code,
                    ex.reply.text[:1000],
                    outcome.tls_version,
                    outcome.tls_cipher,
                )
                for ex in result.exchanges
            ]
        message, given_up = _settle(outcome, claimed, now)
        messages.append((message, claimed.token))
        recipients += given_up
    return messages, recipients, attempts


# The attempt columns, with their types in the PostgreSQL statement's arrays.
ATTEMPT_COLUMNS = {
    "message_id": "uuid",
    "recipient_id": "bigint",
    "attempt": "int",
    "started_at": "timestamptz",
    "duration_ms": "int",
    "step": "text",
    "code": "int",
    "enhanced_code": "text",
    "reply": "text",
    "tls_version": "text",
    "tls_cipher": "text",
}
ATTEMPT_FIELDS = list(ATTEMPT_COLUMNS)
# What settling writes.
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
RECIPIENT_FIELDS = ["state", "code", "enhanced_code", "reply", "updated_at"]
# Per row in the PostgreSQL statement (the lease and the phase are the same for all).
SETTLED_COLUMNS = {
    "state": "text",
    "next_attempt_at": "timestamptz",
    "sent_at": "timestamptz",
    "last_error": "text",
    "sent_copy": "text",
    "sent_copy_due_at": "timestamptz",
}
RECIPIENT_COLUMNS = {"state": "text", "code": "int", "enhanced_code": "text", "reply": "text"}


def _unnest(columns: dict[str, str]) -> str:
    return f"unnest({', '.join(f'%s::{kind}[]' for kind in columns.values())}) AS v ({', '.join(columns)})"


@functools.cache
def _settle_statement() -> str:
    """One statement for a whole batch of results on PostgreSQL: the recipients' answers, the
    attempts and the messages' new states, each row only if its message's lease is still the
    one it was sent under. One round trip, where separate statements cost the worker a round
    trip (and its Python) each."""
    message, recipient, attempt = (_table(m) for m in (OutgoingMessage, Recipient, DeliveryAttempt))
    messages = _unnest({"id": "uuid", "token": "text", **SETTLED_COLUMNS})
    recipients = _unnest({"id": "bigint", "message_id": "uuid", **RECIPIENT_COLUMNS})
    settled = ", ".join(f"{name} = m.{name}" for name in SETTLED_COLUMNS)
    return f"""
WITH m AS (
    SELECT * FROM {messages}
), owned AS (
    SELECT o.id FROM {message} o JOIN m ON o.id = m.id AND o.lease_owner = m.token
), recipients AS (
    UPDATE {recipient} r SET {", ".join(f"{name} = v.{name}" for name in RECIPIENT_COLUMNS)}, updated_at = %s
    FROM {recipients}
    WHERE r.id = v.id AND v.message_id IN (SELECT id FROM owned)
), attempts AS (
    INSERT INTO {attempt} ({", ".join(ATTEMPT_COLUMNS)})
    SELECT * FROM {_unnest(ATTEMPT_COLUMNS)}
    WHERE v.message_id IN (SELECT id FROM owned)
)
UPDATE {message} o SET {settled}, lease_owner = '', lease_until = NULL, phase = %s
FROM m WHERE o.id = m.id AND o.lease_owner = m.token"""  # noqa: S608 - names from the models


def _write_settled(pg, messages: list[tuple[SimpleNamespace, str]], recipients, attempts, now: datetime) -> None:
    m = [[str(message.pk) for message, _token in messages], [token for _message, token in messages]]
    m += [[getattr(message, name) for message, _token in messages] for name in SETTLED_COLUMNS]
    r = [[getattr(row, name) for row in recipients] for name in ("pk", "message_id", *RECIPIENT_COLUMNS)]
    a = [list(column) for column in zip(*attempts, strict=True)] if attempts else [[] for _ in ATTEMPT_COLUMNS]
    _execute(pg, _settle_statement(), [*m, now, *r, *a, Phase.NONE.value])


def _recipient_rows(message_id: str, result: smtp.SubmissionResult, now: datetime) -> list[SimpleNamespace]:
    rows = []
    for state, replies in (
        (RecipientState.ACCEPTED, result.accepted),
        (RecipientState.REJECTED, result.rejected),
        (RecipientState.DEFERRED, result.deferred),
    ):
        rows += [
            SimpleNamespace(
                pk=rid,
                message_id=message_id,
                state=state,
                code=reply.code,
                enhanced_code=reply.enhanced_code,
                reply=reply.text[:1000],
                updated_at=now,
            )
            for rid, reply in replies.items()
        ]
    return rows


def _settle(outcome: Outcome, claimed: Claimed, now: datetime) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    """The message's new state (and any recipients given up on), from this attempt's result."""
    result = outcome.result
    message = SimpleNamespace(
        pk=outcome.message_id,
        state=outcome.state,
        next_attempt_at=None,
        lease_owner="",
        lease_until=None,
        phase=Phase.NONE,
        sent_at=None,
        last_error=(outcome.error or (result.error if result else ""))[:1000],
        sent_copy=claimed.sent_copy,
        sent_copy_due_at=None,
    )
    given_up: list[SimpleNamespace] = []
    if message.state is not None:
        pass  # decided without a submission: held, refused sender
    elif result.uncertain:
        message.state = MessageState.UNCERTAIN
        message.last_error = f"{UNCERTAIN_TEXT} ({result.error})"[:1000]
    else:
        taken = claimed.previously_taken or bool(result.accepted)
        if result.deferred:
            retry_at = now + backoff(claimed.attempts, result.retry_after)
            if retry_at > claimed.expires_at:
                given_up = [
                    SimpleNamespace(
                        pk=rid,
                        state=RecipientState.REJECTED,
                        code=reply.code,
                        enhanced_code=reply.enhanced_code,
                        reply=f"gave up after {claimed.attempts} attempts: {reply.text}"[:1000],
                        updated_at=now,
                    )
                    for rid, reply in result.deferred.items()
                ]
                message.state = MessageState.SENT if taken else MessageState.FAILED
            else:
                message.state, message.next_attempt_at = MessageState.DEFERRED, retry_at
        else:
            message.state = MessageState.SENT if taken else MessageState.FAILED
    if message.state == MessageState.SENT:
        message.sent_at = now
        if not claimed.server_saves_sent and claimed.sent_copy == SentCopy.NOT_NEEDED:
            message.sent_copy, message.sent_copy_due_at = SentCopy.PENDING, now
    return message, given_up


def _update_in_groups(model, objects: list, fields: list[str]) -> None:
    """Rows that end up with the same values share one UPDATE (the path for databases other
    than PostgreSQL). In a batch nearly all messages are sent and nearly all recipients
    accepted alike, so this is a handful of statements where bulk_update would build a CASE
    per row and field."""
    groups: dict[tuple, list] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, name) for name in fields), []).append(obj.pk)
    for values, ids in groups.items():
        model.objects.filter(pk__in=ids).update(**dict(zip(fields, values, strict=True)))


class NotMarked(Exception):
    """A message could not be marked as about to be sent, so it is not: the database failed
    (its lease will lapse and the sweeper queue it again), or the run lost its lease on it."""


class Journal:
    """The run's database writers, each on a thread (and connection) of its own, each writing in
    one transaction whatever piled up while it was busy.

    The "DATA is about to be sent" marks are on every message's critical path, so they have a
    writer to themselves; results only need to be written eventually (under load they wait a
    little for others to share their write), and claims share their thread. A result always
    follows its own mark (it exists only after the mark was committed and the server answered
    the message).
    """

    def __init__(self, executors: tuple[ThreadPoolExecutor, ...]) -> None:
        self.marks_executor, self.results_executor = executors
        self.ledger: dict[str, Claimed] = {}
        self.tokens: list[str] = []  # the leases this run took
        self._marks: list[tuple[str, asyncio.Future]] = []
        self._outcomes: list[Outcome] = []
        self._tasks: dict[str, asyncio.Task] = {}
        self.in_flight = 0  # SMTP transactions under way

    def claimed(self, token: str, ledger: dict[str, Claimed]) -> None:
        self.tokens.append(token)
        self.ledger.update(ledger)

    async def run(self, fn: Callable, *args):
        """Database work off the critical path (claims, checks), on the results thread."""
        return await asyncio.get_running_loop().run_in_executor(self.results_executor, fn, *args)

    async def mark_data(self, message_id: str) -> None:
        future = asyncio.get_running_loop().create_future()
        self._marks.append((message_id, future))
        self._kick("marks", self._drain_marks)
        await future

    def record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._kick("results", self._drain_results)

    def _kick(self, name: str, drain: Callable) -> None:
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.ensure_future(drain())

    async def _drain_marks(self) -> None:
        loop = asyncio.get_running_loop()
        while self._marks:
            marks, self._marks = self._marks, []
            try:
                ids = [m for m, _f in marks]
                marked = await loop.run_in_executor(self.marks_executor, write_marks, list(self.tokens), ids)
            except Exception:
                log.exception("could not mark %d message(s) as being sent; they are not sent now", len(marks))
                marked = set()
            for message_id, future in marks:
                if message_id in marked:
                    future.set_result(None)
                else:
                    future.set_exception(NotMarked(message_id))

    async def _drain_results(self) -> None:
        loop = asyncio.get_running_loop()
        while self._outcomes:
            if len(self._outcomes) < RESULTS_BATCH and self.in_flight:
                await asyncio.sleep(RESULTS_LINGER)  # more are on their way: let them join this write
            outcomes, self._outcomes = self._outcomes, []
            try:
                await loop.run_in_executor(self.results_executor, write_results, outcomes, self.ledger)
            except Exception:
                log.exception("could not record %d outcome(s); their leases will expire and be swept", len(outcomes))

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            while not task.done():
                await task


# -- a run ------------------------------------------------------------------------------------


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
    asyncio.run(_run(account, message_id))


class _Stop(Exception):
    """Why a run stops taking messages; ``outcome`` says what becomes of those it still has."""

    def __init__(self, outcome: Callable[[smtp.Envelope], Outcome]) -> None:
        self.outcome = outcome


async def _run(account: MailAccount, first_id: str | None) -> None:
    """Claim due messages of one account in batches and send them over up to
    WEBMAIL_SMTP_CONNECTIONS connections ("lanes"). The next batch is claimed while the lanes
    still have work, so they do not wait for it, but only while the run holds less than
    WEBMAIL_CLAIM_BYTES of messages, queued or being sent: a run holds at most that much plus
    one message."""
    executors = _database_threads()
    for executor in executors:
        executor.submit(close_old_connections)  # first in line: a broken or too old connection goes
    journal = Journal(executors)
    width = settings.WEBMAIL_SMTP_CONNECTIONS
    queue: asyncio.Queue[smtp.Envelope | None] = asyncio.Queue()
    hungry = asyncio.Event()  # the lanes are running short of work
    stopped: list[_Stop] = []
    pool: list[smtp.Connection | None] = [None] * width
    live: set[int] = set()  # lanes with an open connection
    opening: set[int] = set()  # lanes opening one
    handed_back: deque[smtp.Envelope] = deque()  # by lanes the server turned away, for the others
    budget = settings.WEBMAIL_CLAIM_BYTES
    holding: dict[str, int] = {}  # message id -> its bytes, from when it is queued until it is done with
    held = 0

    def hold(envelope: smtp.Envelope) -> None:
        nonlocal held
        holding[envelope.message_id] = len(envelope.data)
        held += len(envelope.data)
        queue.put_nowait(envelope)

    def release(envelope: smtp.Envelope) -> None:
        # The bytes go now, not when the envelope does: a lane keeps its last one while it
        # waits for the next.
        nonlocal held
        was, held = held, held - holding.pop(envelope.message_id, 0)
        envelope.data = b""
        if held < budget <= was:  # room again for the feed that waits for it
            hungry.set()

    def settle(outcome: Outcome, envelope: smtp.Envelope) -> None:
        release(envelope)
        journal.record(outcome)

    def stop(reason: _Stop) -> None:
        if not stopped:
            stopped.append(reason)
        ends = 0
        while handed_back:
            envelope = handed_back.popleft()
            settle(reason.outcome(envelope), envelope)
        while not queue.empty():
            if (envelope := queue.get_nowait()) is None:
                ends += 1  # put back below: each lane still needs one to finish
            else:
                settle(reason.outcome(envelope), envelope)
        for _ in range(ends):
            queue.put_nowait(None)
        hungry.set()

    async def feed() -> None:
        deadline, first = time.monotonic() + RUN_BUDGET_SECONDS, first_id
        try:
            while not stopped:
                if time.monotonic() > deadline:
                    await journal.run(_ring_again, account.pk)  # let another run carry on
                    return
                token, envelopes, ledger = await journal.run(claim, account.pk, first, CLAIM_BATCH, budget - held)
                first = None
                if not envelopes:
                    return
                journal.claimed(token, ledger)
                allowed = await journal.run(_sender_allowed, account, envelopes)
                for envelope in envelopes:
                    if stopped:
                        journal.record(stopped[0].outcome(envelope))
                    elif allowed[envelope.message_id]:
                        hold(envelope)
                    else:
                        journal.record(_refused(envelope))
                hungry.clear()
                if queue.qsize() > width:
                    await hungry.wait()
                while held >= budget and not stopped:
                    hungry.clear()
                    await hungry.wait()
        finally:
            for _ in range(width):
                queue.put_nowait(None)

    async def next_envelope() -> smtp.Envelope | None:
        envelope = handed_back.popleft() if handed_back else await queue.get()
        if envelope is None and handed_back:
            queue.put_nowait(None)  # still this lane's to end on, after the handed-back one
            envelope = handed_back.popleft()
        return envelope

    async def lane(slot: int) -> None:
        # The first lane dials while the first batch is being claimed: the run was started
        # because something is due, and TLS + AUTH is the longest wait of a lone message.
        dialling = asyncio.ensure_future(smtp.open_connection(account)) if slot == 0 else None
        try:
            await _lane(slot, dialling)
        finally:
            if dialling is not None and pool[slot] is None:
                with contextlib.suppress(Exception):  # nothing was claimed after all: finish dialling, hang up
                    await (await dialling).close()

    async def _lane(slot: int, dialling: asyncio.Future | None) -> None:
        while (envelope := await next_envelope()) is not None:
            if queue.qsize() <= max(width, CLAIM_BATCH // 2):
                hungry.set()
            connection_ = pool[slot]
            if connection_ is None or connection_.broken or not connection_.client.is_connected:
                live.discard(slot)
                opening.add(slot)
                try:
                    opened, dialling = dialling or smtp.open_connection(account), None
                    connection_ = pool[slot] = await opened
                except smtp.AuthenticationRefused as exc:
                    await journal.run(hold_account, account.pk, str(exc))
                    settle(Outcome(envelope.message_id, state=MessageState.HELD, error=str(exc)), envelope)
                    stop(_Stop(_held))
                    return
                except MailServerError as exc:
                    if live or opening - {slot}:  # the server takes fewer connections than we would like
                        log.info("SMTP lane %d of account %s not opened: %s", slot, account.pk, exc)
                        handed_back.append(envelope)
                        return
                    error = str(exc)
                    settle(_connection_failed(envelope, error), envelope)
                    stop(_Stop(lambda e, error=error: _connection_failed(e, error)))
                    return
                finally:
                    opening.discard(slot)
                live.add(slot)
            journal.in_flight += 1
            try:
                result = await smtp.submit(connection_, envelope, lambda e=envelope: journal.mark_data(e.message_id))
            except NotMarked:
                log.warning("%s not sent now: it could not be marked as being sent", envelope.message_id)
                continue
            finally:
                journal.in_flight -= 1
                release(envelope)
            outcome = Outcome(envelope.message_id, result, tls_version=connection_.tls_version)
            outcome.tls_cipher = connection_.tls_cipher
            journal.record(outcome)
        live.discard(slot)

    heartbeat = asyncio.ensure_future(_renew_leases_periodically(journal))
    try:
        await asyncio.gather(feed(), *(lane(slot) for slot in range(width)))
        if handed_back:  # every lane that could have taken them is gone
            stop(_Stop(lambda e: _connection_failed(e, "no connection to the server was left")))
    finally:
        heartbeat.cancel()
        await journal.close()
        for connection_ in pool:
            if connection_ is not None:
                await connection_.close()


# The two database threads of this process's runs, kept from run to run with their
# connections: opening a database connection takes longer than sending a message.
_threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
_threads_pid = 0
_threads_lock = threading.Lock()


def _database_threads() -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
    global _threads, _threads_pid
    with _threads_lock:
        if _threads is None or _threads_pid != os.getpid():  # none yet, or inherited through fork
            _threads = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-marks"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db"),
            )
            _threads_pid = os.getpid()
        return _threads


def close_database_threads() -> None:
    """Close the runs' database connections and stop their threads (for tests, before their
    database goes; a process that exits just drops them)."""
    global _threads
    with _threads_lock:
        threads, _threads = _threads, None
    if threads is not None and _threads_pid == os.getpid():
        for executor in threads:
            executor.submit(_close_thread_connection).result()
            executor.shutdown(wait=True)


def _held(envelope: smtp.Envelope) -> Outcome:
    return Outcome(envelope.message_id, state=MessageState.HELD, error="sending is held for this account")


def _refused(envelope: smtp.Envelope) -> Outcome:
    return Outcome(envelope.message_id, state=MessageState.FAILED, error="the sender is not one of your addresses")


def _ring_again(account_id) -> None:
    from outbox.tasks import ring_account  # the tasks module imports this one

    due = OutgoingMessage.objects.due(timezone.now()).filter(account_id=account_id).values_list("id", flat=True)
    if (message_id := due.first()) is not None:
        ring_account(account_id, str(message_id))


def renew_leases(tokens: list[str]) -> None:
    OutgoingMessage.objects.filter(lease_owner__in=tokens, state=MessageState.SENDING).update(
        lease_until=timezone.now() + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS)
    )


async def _renew_leases_periodically(journal: Journal) -> None:
    # A slow server must not let a lease lapse under a live worker: the sweeper would hand the
    # messages to another worker, and a message marked for DATA in time would go out twice.
    interval = settings.WEBMAIL_SEND_LEASE_SECONDS / 3
    while True:
        await asyncio.sleep(interval)
        if journal.tokens:
            await journal.run(renew_leases, list(journal.tokens))


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
    for message_id, account_id in (
        OutgoingMessage.objects.due(now).order_by("due_at").values_list("id", "account_id")[:1000]
    ):
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
