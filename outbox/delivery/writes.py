"""The run's writes: the "DATA is about to be sent" marks, the settled results, lease renewals.

Each write is described once. ``MARK`` and ``_marked`` are the marks' SET and conditions, from
which both the ORM's UPDATE and the PostgreSQL statement are made. A batch of settlements is
written to three tables, each described by a ``Written``: its columns in row order (with their
types in the PostgreSQL statement's arrays), the ones identifying a row, and the ones that take
one value for the whole batch. From those come the single PostgreSQL statement (one round trip
for a whole batch, each table's rows bound as arrays and UNNESTed) and the ORM's statements
(rows that end up alike share one UPDATE; the attempts are one bulk INSERT).
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from outbox.delivery import postgres
from outbox.delivery.outcomes import Claimed, EnvelopeOutcome, Settlement, settle
from outbox.models import DeliveryAttempt, MessageState, OutgoingMessage, Phase, Recipient


@dataclass(frozen=True)
class Written:
    """What a batch writes to one table."""

    model: type[Model]
    columns: dict[str, str]  # name -> PostgreSQL type, in the order of a row's values
    key: tuple[str, ...] = ()  # the columns that find the row (and are not written)
    fixed: tuple[str, ...] = ()  # columns written with one value for the whole batch

    @property
    def values(self) -> list[str]:
        return [name for name in self.columns if name not in self.key]

    def unnest(self) -> str:
        arrays = ", ".join(f"%s::{kind}[]" for kind in self.columns.values())
        return f"unnest({arrays}) AS v ({', '.join(self.columns)})"

    def sets(self, rows: str) -> str:
        """The SET list: each row's values from the UNNESTed ``rows``, then the batch's own."""
        q = postgres.column
        return ", ".join(
            [*(f"{q(name)} = {rows}.{name}" for name in self.values), *(f"{q(n)} = %s" for n in self.fixed)]
        )

    def batch(self, values: dict[str, Any]) -> dict[str, Any]:
        """The batch's values of the ``fixed`` columns, checked against them."""
        if tuple(values) != self.fixed:
            raise ValueError(f"{self.model.__name__}: {tuple(values)} written where {self.fixed} are described")
        return values


# A message is found by its id, and written only under the lease (``token``) it was sent under.
MESSAGES = Written(
    OutgoingMessage,
    {
        "id": "uuid",
        "token": "text",
        "state": "text",
        "next_attempt_at": "timestamptz",
        "sent_at": "timestamptz",
        "last_error": "text",
        "sent_copy": "text",
        "sent_copy_due_at": "timestamptz",
    },
    key=("id", "token"),
    fixed=("lease_owner", "lease_until", "phase"),
)
# Settled, a message is no longer anybody's.
RELEASED = {"lease_owner": "", "lease_until": None, "phase": Phase.NONE}
RECIPIENTS = Written(
    Recipient,
    {"id": "bigint", "message_id": "uuid", "state": "text", "code": "int", "enhanced_code": "text", "reply": "text"},
    key=("id", "message_id"),
    fixed=("updated_at",),
)
ATTEMPTS = Written(
    DeliveryAttempt,
    {
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
    },
)


@dataclass
class Rows:
    """A batch of settlements as each table's rows (tuples in the order of its ``columns``)."""

    messages: list[tuple[Any, ...]]
    recipients: list[tuple[Any, ...]]
    attempts: list[tuple[Any, ...]]

    @classmethod
    def of(cls, settlements: Iterable[Settlement]) -> Rows:
        """Each row's values taken by name from the settlement: what ``outcomes`` decides and
        what is written cannot drift apart unnoticed."""
        message, recipient, attempt = (
            _row(MESSAGES.values),
            _row(("pk", "message_id", *RECIPIENTS.values)),
            _row(ATTEMPTS.columns),
        )
        rows = cls([], [], [])
        for s in settlements:
            rows.messages.append((s.message.pk, s.token, *message(s.message)))
            rows.recipients += [recipient(answer) for answer in s.recipients]
            rows.attempts += [attempt(record) for record in s.attempts]
        return rows


def _row(names: Iterable[str]) -> Callable[[Any], tuple[Any, ...]]:
    get = operator.attrgetter(*names)
    return lambda obj: tuple(get(obj))


def write_results(outcomes: list[EnvelopeOutcome], ledger: dict[str, Claimed]) -> None:
    """Runs on the results thread: a batch of results in one transaction. Written from what the
    run knows, without reading the rows back, and only for the messages whose lease is still
    the one they were sent under: if it was taken back meanwhile, this run's word no longer
    counts."""
    now = timezone.now()
    rows = Rows.of(settle(outcome, ledger[outcome.message_id], now) for outcome in outcomes)
    if (pg := postgres.postgres()) is not None:
        postgres.execute(pg, settle_statement(), settle_parameters(rows, now))  # one statement
        return
    with transaction.atomic():
        ids = [row[0] for row in rows.messages]
        leases = dict(OutgoingMessage.objects.filter(id__in=ids).values_list("id", "lease_owner"))
        owned = {pk for pk, token, *_values in rows.messages if leases.get(uuid.UUID(pk)) == token}
        _update_in_groups(RECIPIENTS, [r for r in rows.recipients if r[1] in owned], _stamped(now))
        DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(**dict(zip(ATTEMPTS.columns, row, strict=True)))
                for row in rows.attempts
                if row[0] in owned
            ]
        )
        _update_in_groups(MESSAGES, [m for m in rows.messages if m[0] in owned], RELEASED)


@functools.cache
def settle_statement() -> str:
    """One statement for a whole batch of results on PostgreSQL: the recipients' answers, the
    attempts and the messages' new states, each row only if its message's lease is still the
    one it was sent under. One round trip, where separate statements cost the worker a round
    trip (and its Python) each."""
    message, recipient, attempt = (postgres.table(w.model) for w in (MESSAGES, RECIPIENTS, ATTEMPTS))
    attempt_columns = ", ".join(postgres.column(name) for name in ATTEMPTS.columns)
    return f"""
WITH m AS (
    SELECT * FROM {MESSAGES.unnest()}
), owned AS (
    SELECT o.id FROM {message} o JOIN m ON o.id = m.id AND o.lease_owner = m.token
), recipients AS (
    UPDATE {recipient} r SET {RECIPIENTS.sets("v")}
    FROM {RECIPIENTS.unnest()}
    WHERE r.id = v.id AND v.message_id IN (SELECT id FROM owned)
), attempts AS (
    INSERT INTO {attempt} ({attempt_columns})
    SELECT * FROM {ATTEMPTS.unnest()}
    WHERE v.message_id IN (SELECT id FROM owned)
)
UPDATE {message} o SET {MESSAGES.sets("m")}
FROM m WHERE o.id = m.id AND o.lease_owner = m.token"""  # noqa: S608 - names from the models


def settle_parameters(rows: Rows, now: datetime) -> list[Any]:
    """The statement's parameters, in its order: each table's columns as arrays, the batch's own values."""
    m, r, a = (
        _arrays(w, table_rows)
        for w, table_rows in ((MESSAGES, rows.messages), (RECIPIENTS, rows.recipients), (ATTEMPTS, rows.attempts))
    )
    recipients_fixed, messages_fixed = RECIPIENTS.batch(_stamped(now)), MESSAGES.batch(RELEASED)
    return [*m, *recipients_fixed.values(), *r, *a, *(postgres.plain(value) for value in messages_fixed.values())]


def _stamped(now: datetime) -> dict[str, Any]:
    """A recipient's answer is stamped with the time of its batch."""
    return {"updated_at": now}


def _arrays(written: Written, rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    if not rows:
        return [[] for _ in written.columns]
    return [[postgres.plain(value) for value in column] for column in zip(*rows, strict=True)]


def _update_in_groups(written: Written, rows: list[tuple[Any, ...]], fixed: dict[str, Any]) -> None:
    """Rows that end up with the same values share one UPDATE (the path for databases other
    than PostgreSQL). In a batch nearly all messages are sent and nearly all recipients
    accepted alike, so this is a handful of statements where bulk_update would build a CASE
    per row and field."""
    names, offset = written.values, len(written.key)
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        groups.setdefault(row[offset:], []).append(row[0])
    for values, ids in groups.items():
        changes = dict(zip(names, values, strict=True))
        written.model._default_manager.filter(pk__in=ids).update(**changes, **written.batch(fixed))


# -- the marks, and the leases --------------------------------------------------------------------

MARK = {"phase": Phase.DATA}


def _marked() -> QuerySet[OutgoingMessage]:
    """The messages a run may mark (besides being the ones it asks for, under its leases)."""
    return OutgoingMessage.objects.filter(state=MessageState.SENDING)


@functools.cache
def _mark_statement() -> tuple[str, tuple[Any, ...]]:
    statement, params = postgres.update_statement(
        _marked(), MARK, {"id": "uuid", "lease_owner": "text"}, returning=("id",)
    )
    return statement, tuple(params)


def write_marks(tokens: list[str], message_ids: list[str]) -> set[str]:
    """Runs on the marks thread; committed before the message is sent (its DATA command goes
    out meanwhile). Returns the ids marked: a message whose lease this run lost meanwhile is
    not, and must not be sent."""
    if (pg := postgres.postgres()) is not None:
        statement, params = _mark_statement()
        return {str(i) for (i,) in postgres.execute(pg, statement, [*params, message_ids, tokens])}
    marked = _marked().filter(id__in=message_ids, lease_owner__in=tokens)
    if marked.update(**MARK) == len(message_ids):
        return set(message_ids)
    return {str(i) for i in marked.filter(**MARK).values_list("id", flat=True)}


def renew_leases(tokens: list[str]) -> None:
    OutgoingMessage.objects.filter(lease_owner__in=tokens, state=MessageState.SENDING).update(
        lease_until=timezone.now() + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS)
    )
