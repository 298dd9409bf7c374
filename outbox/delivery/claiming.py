"""Claiming: a run takes due messages of one account with a conditional UPDATE that stamps its
own lease token, so two workers never take the same message."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from accounts.models import MailAccount
from outbox.delivery import postgres
from outbox.delivery.outcomes import Claimed
from outbox.models import UNSETTLED, MessageState, OutgoingMessage, Phase, Recipient, RecipientState
from webmail.protocol import smtp

CLAIM_BATCH = 50
# What a run needs of each message it claims (the PostgreSQL statement returns them).
CLAIMED_FIELDS = ("id", "sender", "mime", "delivery_receipt", "attempts", "expires_at", "sent_copy")


def claim(
    account_id: uuid.UUID,
    first_id: str | None = None,
    limit: int = CLAIM_BATCH,
    max_bytes: int | None = None,
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
    ids = within(candidates, settings.WEBMAIL_CLAIM_BYTES if max_bytes is None else max_bytes)
    if not ids:
        return token, [], {}
    account = MailAccount.objects.filter(pk=account_id).values_list("smtp_held_at", "server_saves_sent").first()
    if account is None or account[0] is not None:
        return token, [], {}
    rows = _take(ids, token, now)
    recipients, taken = _recipients([row["id"] for row in rows])
    ledger = {
        str(row["id"]): Claimed(
            token=token,
            attempts=row["attempts"],
            expires_at=row["expires_at"],
            previously_taken=row["id"] in taken,
            sent_copy=row["sent_copy"],
            server_saves_sent=account[1],
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


def within(candidates: list[tuple[Any, int]], max_bytes: int) -> list[Any]:
    """The ids of the longest run of (id, size) from the start that fits in ``max_bytes``; at
    least the first, which would otherwise never be sent."""
    ids: list[Any] = []
    total = 0
    for message_id, size in candidates:
        total += size
        if ids and total > max_bytes:
            break
        ids.append(message_id)
    return ids


def _take(ids: list[Any], token: str, now: datetime) -> list[dict[str, Any]]:
    """The claim's UPDATE, then what the run needs of the rows it took, in due order. The
    conditions are repeated in the UPDATE, on this table alone (no join, no subquery), so that
    PostgreSQL re-checks them on a row another worker just claimed: whichever UPDATE lands first
    gets the row, and the other finds it no longer claimable."""
    lease_until = now + timedelta(seconds=settings.WEBMAIL_SEND_LEASE_SECONDS)
    taking = {"state": MessageState.SENDING, "lease_owner": token, "lease_until": lease_until, "phase": Phase.ENVELOPE}
    claimable = OutgoingMessage.objects.claimable(now)
    if (pg := postgres.postgres()) is not None:
        return _take_returning(pg, claimable, taking, ids)
    claimable.filter(id__in=ids).update(**taking, attempts=F("attempts") + 1)
    taken = OutgoingMessage.objects.filter(id__in=ids, lease_owner=token, state=MessageState.SENDING)
    return list(taken.order_by("due_at").values(*CLAIMED_FIELDS))


def _take_returning(
    pg: psycopg.Connection[Any], claimable: Any, taking: dict[str, Any], ids: list[Any]
) -> list[dict[str, Any]]:
    """The same UPDATE on PostgreSQL, returning what the run needs in the same statement."""
    statement, params = postgres.update_statement(
        claimable, taking, {"id": "uuid"}, increments=("attempts",), returning=("due_at", *CLAIMED_FIELDS)
    )
    returned = postgres.execute(pg, statement, [*params, [str(i) for i in ids]], binary=True)
    return [dict(zip(CLAIMED_FIELDS, row[1:], strict=True)) for row in sorted(returned, key=lambda row: row[0])]


def _recipients(message_ids: list[Any]) -> tuple[dict[Any, list[smtp.EnvelopeRecipient]], set[Any]]:
    """The recipients still to send to, per message; and the messages some recipient already
    accepted in an earlier attempt."""
    recipients: dict[Any, list[smtp.EnvelopeRecipient]] = {}
    taken: set[Any] = set()
    rows = Recipient.objects.filter(message_id__in=message_ids).values_list("id", "message_id", "address", "state")
    for rid, message_id, address, state in rows:
        if state in UNSETTLED:
            recipients.setdefault(message_id, []).append(smtp.EnvelopeRecipient(rid, address))
        elif state != RecipientState.REJECTED:
            taken.add(message_id)
    return recipients, taken


def sender_allowed(account: MailAccount, envelopes: list[smtp.Envelope]) -> dict[str, bool]:
    """Checked again here, not only at compose time: the identity may have been removed since."""
    allowed = {a.lower() for a in account.identities.values_list("address", flat=True)}
    return {e.message_id: e.sender.lower() in allowed for e in envelopes}
