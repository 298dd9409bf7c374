"""A sending run claims and holds message bytes within WEBMAIL_CLAIM_BYTES (plus one message)."""

from __future__ import annotations

from datetime import timedelta

from outbox import delivery
from outbox.compose import Attachment
from outbox.models import DeliveryAttempt, MessageState, OutgoingMessage
from tests.outbox.helpers import queue_message

MIB = 1024 * 1024


def queue_big(sender, i: int, attachment_bytes: int) -> OutgoingMessage:
    archive = Attachment(f"part{i}.bin", "application/octet-stream", bytes([i]) * attachment_bytes)
    return queue_message(sender, to=f"r{i}@example.test", attachments=[archive])


def test_a_claim_stops_at_its_byte_budget_and_takes_a_larger_message_alone(sender, settings):
    settings.WEBMAIL_CLAIM_BYTES = 2 * MIB
    big = [queue_big(sender, i, 450_000) for i in range(4)]  # about 620 kB each, encoded
    assert all(500_000 < m.size < 700_000 for m in big)
    _token, envelopes, _ledger = delivery.claim(big[0].account_id)
    assert [e.message_id for e in envelopes] == [str(m.pk) for m in big[:3]]

    _token, envelopes, _ledger = delivery.claim(big[0].account_id, max_bytes=100_000)
    assert [e.message_id for e in envelopes] == [str(big[3].pk)], "too large for the budget: taken alone"


def test_a_run_sends_no_more_message_bytes_at_once_than_its_budget_and_one_message(sender, smtp_server, settings):
    settings.WEBMAIL_CLAIM_BYTES = MIB
    settings.WEBMAIL_SMTP_CONNECTIONS = 4
    smtp_server.handler.stall(0.3, "DATA")  # each message stays in flight a while
    messages = [queue_big(sender, i, 450_000) for i in range(6)]
    delivery.deliver(str(messages[0].pk))
    assert len(smtp_server.wait_for(6)) == 6
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {MessageState.SENT}
    # The run holds one message (620 kB, under 1 MiB) and may take one more, then no more
    # until one is done: never more than two transactions at once, though four lanes are open.
    spans = [
        (a.started_at, a.started_at + timedelta(milliseconds=a.duration_ms))
        for a in DeliveryAttempt.objects.filter(step="data")
    ]
    most = max(sum(1 for start, end in spans if start <= moment < end) for moment, _end in spans)
    assert most == 2
