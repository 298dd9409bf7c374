"""What an attempt at a message comes to: pure decisions, no database and no I/O.

A run reports each claimed envelope as an ``EnvelopeOutcome`` (the server's answers, or a state
decided without submitting). ``settle`` turns it, with what the claim read (``Claimed``), into a
``Settlement``: the message's new columns, each recipient's answer and the attempt log, which
``writes`` stores.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_noop

from outbox.models import MessageState, RecipientState, SentCopy
from webmail.protocol import smtp

# The worker's own sentences are stored in English and translated where they are shown, in the
# reader's language (outbox.views.worker_note); a server's words are shown as they came.
UNCERTAIN_TEXT = gettext_noop(
    "The worker stopped after the message was sent and before the server's answer was recorded: "
    "it may or may not have been delivered. It will not be resent unless you ask."
)
HELD_TEXT = gettext_noop("sending is held for this account")
NOT_YOURS_TEXT = gettext_noop("the sender is not one of your addresses")
WORKER_NOTES = (UNCERTAIN_TEXT, HELD_TEXT, NOT_YOURS_TEXT)


@dataclass(frozen=True)
class Claimed:
    """What settling a claimed message needs to know, read once at claim time."""

    token: str  # the lease this run holds on it
    attempts: int
    expires_at: datetime
    previously_taken: bool  # some recipient already accepted it in an earlier attempt
    sent_copy: str
    server_saves_sent: bool


@dataclass
class EnvelopeOutcome:
    """What became of one claimed envelope in a run: the server's answers, or a state decided
    without submitting it (held, refused sender)."""

    message_id: str
    result: smtp.SubmissionResult | None = None
    state: str | None = None  # set for outcomes decided without a submission
    error: str = ""
    tls_version: str = ""
    tls_cipher: str = ""


@dataclass
class MessageSettlement:
    """The message's new values of the per-row settled columns (see ``writes.MESSAGES``)."""

    pk: str
    state: str
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    sent_copy: str = SentCopy.NOT_NEEDED
    sent_copy_due_at: datetime | None = None


@dataclass(frozen=True)
class RecipientAnswer:
    """A recipient's new state and the server's words about it."""

    pk: int
    message_id: str
    state: str
    code: int | None
    enhanced_code: str
    reply: str


@dataclass(frozen=True)
class AttemptRecord:
    """One SMTP exchange, as a ``DeliveryAttempt`` row (see ``writes.ATTEMPTS``)."""

    message_id: str
    recipient_id: int | None
    attempt: int
    started_at: datetime
    duration_ms: int
    step: str
    code: int | None
    enhanced_code: str
    reply: str
    tls_version: str
    tls_cipher: str


@dataclass
class Settlement:
    """Everything one outcome writes, under the lease it was sent under."""

    token: str
    message: MessageSettlement
    recipients: list[RecipientAnswer] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)


Backoff = Callable[[int, int | None], timedelta]


def backoff(attempts: int, hint: int | None = None) -> timedelta:
    """The delay before the next attempt: doubling from WEBMAIL_RETRY_START_SECONDS up to the cap,
    with jitter; a server's "try again in N seconds" is honoured up to the cap."""
    base = min(settings.WEBMAIL_RETRY_CAP_SECONDS, settings.WEBMAIL_RETRY_START_SECONDS * 2 ** max(0, attempts - 1))
    delay = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy
    if hint:
        delay = max(delay, min(hint, settings.WEBMAIL_RETRY_CAP_SECONDS))
    return timedelta(seconds=delay)


def settle(outcome: EnvelopeOutcome, claimed: Claimed, now: datetime, delay: Backoff = backoff) -> Settlement:
    """Everything an outcome means: the message's new state, its recipients' answers (those still
    deferred when the message expires given up on) and the attempt log."""
    message, expired = message_state(outcome, claimed, now, delay)
    settlement = Settlement(claimed.token, message)
    if (result := outcome.result) is not None:
        settlement.recipients = recipient_answers(
            outcome.message_id, result, expired=expired, attempts=claimed.attempts
        )
        settlement.attempts = attempt_records(outcome, claimed.attempts)
    return settlement


def message_state(
    outcome: EnvelopeOutcome, claimed: Claimed, now: datetime, delay: Backoff = backoff
) -> tuple[MessageSettlement, bool]:
    """The message's new state, and whether it expired with recipients still deferred."""
    result, expired = outcome.result, False
    error = (outcome.error or (result.error if result else ""))[:1000]
    message = MessageSettlement(outcome.message_id, state="", last_error=error, sent_copy=claimed.sent_copy)
    if outcome.state is not None or result is None:
        message.state = outcome.state or MessageState.FAILED  # decided without a submission: held, refused sender
    elif result.uncertain:
        message.state = MessageState.UNCERTAIN
        message.last_error = f"{UNCERTAIN_TEXT} ({result.error})"[:1000]
    else:
        taken = claimed.previously_taken or bool(result.accepted)
        retry_at = now + delay(claimed.attempts, result.retry_after) if result.deferred else None
        if retry_at is not None and retry_at <= claimed.expires_at:
            message.state, message.next_attempt_at = MessageState.DEFERRED, retry_at
        else:
            message.state, expired = MessageState.SENT if taken else MessageState.FAILED, retry_at is not None
    if message.state == MessageState.SENT:
        message.sent_at = now
        if not claimed.server_saves_sent and claimed.sent_copy == SentCopy.NOT_NEEDED:
            message.sent_copy, message.sent_copy_due_at = SentCopy.PENDING, now
    return message, expired


def recipient_answers(
    message_id: str, result: smtp.SubmissionResult, expired: bool = False, attempts: int = 0
) -> list[RecipientAnswer]:
    """Each recipient the server answered about, in the state its answer puts it in; once the
    message has ``expired``, those still deferred are rejected, with the last answer."""
    answers = [
        RecipientAnswer(rid, message_id, state, reply.code, reply.enhanced_code, reply.text[:1000])
        for state, replies in ((RecipientState.ACCEPTED, result.accepted), (RecipientState.REJECTED, result.rejected))
        for rid, reply in replies.items()
    ]
    for rid, reply in result.deferred.items():
        if expired:
            text, state = f"gave up after {attempts} attempts: {reply.text}", RecipientState.REJECTED
        else:
            text, state = reply.text, RecipientState.DEFERRED
        answers.append(RecipientAnswer(rid, message_id, state, reply.code, reply.enhanced_code, text[:1000]))
    return answers


def attempt_records(outcome: EnvelopeOutcome, attempt: int) -> list[AttemptRecord]:
    exchanges = outcome.result.exchanges if outcome.result is not None else []
    return [
        AttemptRecord(
            outcome.message_id,
            ex.recipient_id,
            attempt,
            ex.started_at,
            ex.duration_ms,
            ex.step,
            ex.reply.code,
            ex.reply.enhanced_code,
            ex.reply.text[:1000],
            outcome.tls_version,
            outcome.tls_cipher,
        )
        for ex in exchanges
    ]


# -- outcomes decided without the server's word on the message ----------------------------------


def held(envelope: smtp.Envelope) -> EnvelopeOutcome:
    """The account's SMTP password was refused: its mail waits for a new one."""
    return EnvelopeOutcome(envelope.message_id, state=MessageState.HELD, error=HELD_TEXT)


def refused(envelope: smtp.Envelope) -> EnvelopeOutcome:
    """The sender is no longer one of the account's identities."""
    return EnvelopeOutcome(envelope.message_id, state=MessageState.FAILED, error=NOT_YOURS_TEXT)


def connection_failed(envelope: smtp.Envelope, error: str, now: datetime) -> EnvelopeOutcome:
    """No connection to the server: every recipient is deferred, with the reason as the reply."""
    reply = smtp.Reply(None, error)
    result = smtp.SubmissionResult(deferred={r.id: reply for r in envelope.recipients}, error=error)
    result.exchanges.append(smtp.Exchange("connect", now, 0, reply))
    return EnvelopeOutcome(envelope.message_id, result)
