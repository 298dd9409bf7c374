"""The one description of what settling writes, from which both the PostgreSQL statement and the
ORM's updates are made: checked without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outbox.delivery import writes
from outbox.delivery.outcomes import Claimed, EnvelopeOutcome, settle
from outbox.models import MessageState, Phase, RecipientState, SentCopy
from webmail.protocol import smtp

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def a_batch() -> writes.Rows:
    claimed = Claimed("lease-1", 1, NOW + timedelta(days=1), False, SentCopy.NOT_NEEDED, False)
    result = smtp.SubmissionResult(
        accepted={1: smtp.Reply(250, "2.1.5 Ok")}, rejected={2: smtp.Reply(550, "5.1.1 no such user")}
    )
    result.exchanges = [smtp.Exchange("data", NOW, 4, smtp.Reply(250, "2.0.0 queued"))]
    return writes.Rows.of([settle(EnvelopeOutcome("3f0c", result, tls_version="TLSv1.3"), claimed, NOW)])


@pytest.mark.parametrize(
    "written", [writes.MESSAGES, writes.RECIPIENTS, writes.ATTEMPTS], ids=lambda w: w.model.__name__
)
def test_every_described_column_is_a_field_of_its_model(written: writes.Written) -> None:
    for name in [*written.values, *written.fixed, *(k for k in written.key if k != "token")]:
        written.model._meta.get_field(name)


def test_the_rows_carry_each_tables_values_in_the_order_of_its_columns() -> None:
    rows = a_batch()
    (message,) = [dict(zip(writes.MESSAGES.columns, row, strict=True)) for row in rows.messages]
    assert (message["id"], message["token"], message["state"], message["sent_at"]) == (
        "3f0c",
        "lease-1",
        MessageState.SENT,
        NOW,
    )
    assert (message["sent_copy"], message["sent_copy_due_at"], message["next_attempt_at"]) == (
        SentCopy.PENDING,
        NOW,
        None,
    )
    recipients = [dict(zip(writes.RECIPIENTS.columns, row, strict=True)) for row in rows.recipients]
    assert [(r["id"], r["message_id"], r["state"], r["code"]) for r in recipients] == [
        (1, "3f0c", RecipientState.ACCEPTED, 250),
        (2, "3f0c", RecipientState.REJECTED, 550),
    ]
    (attempt,) = [dict(zip(writes.ATTEMPTS.columns, row, strict=True)) for row in rows.attempts]
    assert (attempt["message_id"], attempt["step"], attempt["reply"], attempt["tls_version"]) == (
        "3f0c",
        "data",
        "2.0.0 queued",
        "TLSv1.3",
    )


def test_the_postgresql_statement_takes_exactly_the_parameters_made_for_it() -> None:
    statement, parameters = writes.settle_statement(), writes.settle_parameters(a_batch(), NOW)
    assert statement.count("%s") == len(parameters)
    assert parameters[-3:] == ["", None, Phase.NONE.value], "the lease let go, last"
    assert parameters[len(writes.MESSAGES.columns)] == NOW, "the recipients' stamp, before their arrays"


def test_the_fixed_values_must_be_the_described_ones() -> None:
    with pytest.raises(ValueError, match="lease_owner"):
        writes.MESSAGES.batch({"lease_owner": ""})
