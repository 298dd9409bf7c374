"""What an attempt means for a message and its recipients: the decisions of outbox.delivery.outcomes,
made without a database (pytest-django refuses any query here: none of these tests asks for one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outbox.delivery import outcomes
from outbox.delivery.outcomes import Claimed, EnvelopeOutcome, settle
from outbox.models import MessageState, RecipientState, SentCopy
from webmail.protocol import smtp

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def fixed_delay(attempts: int, hint: int | None) -> timedelta:
    return timedelta(seconds=hint or 60 * attempts)


def claimed(**changes: object) -> Claimed:
    values: dict[str, object] = {
        "token": "lease-1",
        "attempts": 1,
        "expires_at": NOW + timedelta(days=2),
        "previously_taken": False,
        "sent_copy": SentCopy.NOT_NEEDED,
        "server_saves_sent": False,
    }
    return Claimed(**{**values, **changes})  # type: ignore[arg-type]


def result(**answers: dict[int, smtp.Reply]) -> smtp.SubmissionResult:
    submission = smtp.SubmissionResult(**answers)  # type: ignore[arg-type]
    submission.exchanges = [smtp.Exchange("data", NOW, 3, smtp.Reply(250, "2.0.0 queued as X"))]
    return submission


def answers(settlement: outcomes.Settlement) -> dict[int, tuple[str, int | None, str]]:
    return {a.pk: (a.state, a.code, a.reply) for a in settlement.recipients}


def test_a_250_for_every_recipient_sends_the_message_and_queues_its_sent_copy() -> None:
    accepted = result(accepted={1: smtp.Reply(250, "2.1.5 Ok"), 2: smtp.Reply(250, "2.1.5 Ok")})
    s = settle(EnvelopeOutcome("m1", accepted, tls_version="TLSv1.3"), claimed(), NOW, fixed_delay)
    assert (s.token, s.message.state, s.message.sent_at, s.message.next_attempt_at) == (
        "lease-1",
        MessageState.SENT,
        NOW,
        None,
    )
    assert (s.message.sent_copy, s.message.sent_copy_due_at) == (SentCopy.PENDING, NOW)
    assert answers(s) == {1: (RecipientState.ACCEPTED, 250, "2.1.5 Ok"), 2: (RecipientState.ACCEPTED, 250, "2.1.5 Ok")}
    assert [(a.message_id, a.step, a.code, a.attempt, a.tls_version) for a in s.attempts] == [
        ("m1", "data", 250, 1, "TLSv1.3")
    ]


def test_no_sent_copy_when_the_server_files_one_itself() -> None:
    s = settle(EnvelopeOutcome("m1", result(accepted={1: smtp.Reply(250, "Ok")})), claimed(server_saves_sent=True), NOW)
    assert (s.message.state, s.message.sent_copy, s.message.sent_copy_due_at) == (
        MessageState.SENT,
        SentCopy.NOT_NEEDED,
        None,
    )


def test_a_4xx_defers_the_message_until_the_backoff_and_the_server_hint_counts() -> None:
    deferred = result(deferred={1: smtp.Reply(451, "4.3.0 try again later")}, retry_after=300)
    s = settle(EnvelopeOutcome("m1", deferred), claimed(attempts=2), NOW, fixed_delay)
    assert (s.message.state, s.message.next_attempt_at, s.message.sent_at) == (
        MessageState.DEFERRED,
        NOW + timedelta(seconds=300),
        None,
    )
    assert answers(s) == {1: (RecipientState.DEFERRED, 451, "4.3.0 try again later")}


def test_a_5xx_for_every_recipient_fails_the_message() -> None:
    rejected = result(rejected={1: smtp.Reply(550, "5.1.1 no such user")}, error="")
    s = settle(EnvelopeOutcome("m1", rejected), claimed(), NOW, fixed_delay)
    assert (s.message.state, s.message.sent_at, s.message.sent_copy) == (MessageState.FAILED, None, SentCopy.NOT_NEEDED)
    assert answers(s) == {1: (RecipientState.REJECTED, 550, "5.1.1 no such user")}


def test_a_5xx_for_some_recipients_still_sends_to_the_others() -> None:
    mixed = result(accepted={1: smtp.Reply(250, "Ok")}, rejected={2: smtp.Reply(550, "5.1.1 no such user")})
    s = settle(EnvelopeOutcome("m1", mixed), claimed(), NOW, fixed_delay)
    assert s.message.state == MessageState.SENT
    assert answers(s)[2][0] == RecipientState.REJECTED


def test_a_rejection_after_an_earlier_attempt_was_taken_leaves_the_message_sent() -> None:
    rejected = result(rejected={2: smtp.Reply(550, "5.1.1 no such user")})
    s = settle(EnvelopeOutcome("m1", rejected), claimed(previously_taken=True, attempts=3), NOW, fixed_delay)
    assert s.message.state == MessageState.SENT


def test_a_connection_dropped_after_data_leaves_the_message_uncertain() -> None:
    dropped = result(uncertain=True, error="the server closed the connection after the message")
    s = settle(EnvelopeOutcome("m1", dropped), claimed(), NOW, fixed_delay)
    assert s.message.state == MessageState.UNCERTAIN
    assert s.message.last_error.startswith(outcomes.UNCERTAIN_TEXT)
    assert s.message.last_error.endswith("(the server closed the connection after the message)")
    assert (s.message.sent_at, s.message.next_attempt_at, s.message.sent_copy) == (None, None, SentCopy.NOT_NEEDED)


def test_a_deferral_past_the_message_lifetime_gives_the_recipients_up() -> None:
    deferred = result(accepted={1: smtp.Reply(250, "Ok")}, deferred={2: smtp.Reply(451, "4.4.1 no answer from host")})
    s = settle(EnvelopeOutcome("m1", deferred), claimed(attempts=7, expires_at=NOW + MINUTE), NOW, fixed_delay)
    assert (s.message.state, s.message.next_attempt_at) == (MessageState.SENT, None), "one recipient took it"
    assert answers(s) == {
        1: (RecipientState.ACCEPTED, 250, "Ok"),
        2: (RecipientState.REJECTED, 451, "gave up after 7 attempts: 4.4.1 no answer from host"),
    }
    assert {a.message_id for a in s.recipients} == {"m1"}, "each answer says whose message it is"


def test_an_expired_message_that_nobody_took_fails() -> None:
    deferred = result(deferred={1: smtp.Reply(421, "4.7.0 busy")})
    s = settle(EnvelopeOutcome("m1", deferred), claimed(expires_at=NOW + MINUTE / 2), NOW, fixed_delay)
    assert s.message.state == MessageState.FAILED
    assert answers(s)[1][0] == RecipientState.REJECTED


def test_a_hold_keeps_the_message_waiting_for_a_new_password() -> None:
    envelope = smtp.Envelope("m1", "me@example.test", [smtp.EnvelopeRecipient(1, "ann@example.test")], b"")
    s = settle(outcomes.held(envelope), claimed(), NOW, fixed_delay)
    assert (s.message.state, s.message.last_error) == (MessageState.HELD, "sending is held for this account")
    assert (s.recipients, s.attempts) == ([], [])


def test_a_sender_no_longer_allowed_fails_the_message_without_a_word_to_the_server() -> None:
    envelope = smtp.Envelope("m1", "old@example.test", [smtp.EnvelopeRecipient(1, "ann@example.test")], b"")
    s = settle(outcomes.refused(envelope), claimed(), NOW, fixed_delay)
    assert (s.message.state, s.message.last_error) == (MessageState.FAILED, "the sender is not one of your addresses")


def test_no_connection_defers_every_recipient_with_the_reason() -> None:
    envelope = smtp.Envelope("m1", "me@example.test", [smtp.EnvelopeRecipient(1, "a@x.test")], b"")
    s = settle(outcomes.connection_failed(envelope, "connection refused", NOW), claimed(), NOW, fixed_delay)
    assert (s.message.state, s.message.last_error) == (MessageState.DEFERRED, "connection refused")
    assert answers(s) == {1: (RecipientState.DEFERRED, None, "connection refused")}
    assert [(a.step, a.code, a.reply) for a in s.attempts] == [("connect", None, "connection refused")]


@pytest.mark.parametrize("attempts", [1, 2, 5, 30])
def test_the_backoff_doubles_within_its_jitter_and_stops_at_the_cap(attempts: int, settings: Any) -> None:
    start, cap = 60, 3600
    settings.WEBMAIL_RETRY_START_SECONDS, settings.WEBMAIL_RETRY_CAP_SECONDS = start, cap
    base = min(cap, start * 2 ** (attempts - 1))
    delay = outcomes.backoff(attempts).total_seconds()
    assert 0.8 * base <= delay <= 1.2 * base
    assert outcomes.backoff(attempts, hint=10 * cap).total_seconds() <= max(1.2 * base, cap)
