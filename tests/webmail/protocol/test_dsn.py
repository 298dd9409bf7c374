"""Delivery status notifications (RFC 3464) read into plain data."""

from __future__ import annotations

from tests.outbox.helpers import report
from webmail.protocol import dsn


def test_a_postfix_bounce_is_parsed():
    parsed = dsn.parse(report("postfix-bounce.eml", envid="ENV-1"))
    assert parsed.envelope_id == "ENV-1"
    assert parsed.reporting_mta == "dns; mail.example.test"
    (status,) = parsed.recipients
    assert (status.address, status.action, status.status) == ("nobody@example.test", "failed", "5.1.1")
    assert status.diagnostic.startswith("smtp; 550 5.1.1")


def test_an_ordinary_message_is_not_a_report():
    assert dsn.parse(b"Subject: hi\r\n\r\nhello\r\n") is None
