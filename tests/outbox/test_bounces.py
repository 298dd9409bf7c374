"""Bounces and delay reports update the recipients of the message they are about."""

from __future__ import annotations

import pytest

from outbox import bounces
from outbox.models import OutgoingMessage, Recipient, RecipientState
from tests.factories import IdentityFactory, MailAccountFactory
from tests.outbox.helpers import queue_message, report
from tests.webmail.mailbox.helpers import sync_account
from webmail.protocol import dsn


@pytest.fixture
def sent(db):
    account = MailAccountFactory()
    identity = IdentityFactory(account=account, user=account.user)
    message = OutgoingMessage.objects.create(
        user=account.user,
        account=account,
        identity=identity,
        sender=identity.address,
        message_id="<abc@example.test>",
        mime=b"x",
        size=1,
        expires_at="2030-01-01T00:00:00Z",
        state="sent",
    )
    for address in ("nobody@example.test", "slow@example.test", "fine@example.test"):
        Recipient.objects.create(message=message, address=address, kind="to", state=RecipientState.ACCEPTED)
    return message


def test_a_bounce_marks_the_recipient_bounced_by_envelope_id(sent):
    assert bounces.apply(sent.account_id, dsn.parse(report("postfix-bounce.eml", sent))) == 1
    nobody = sent.recipients.get(address="nobody@example.test")
    assert nobody.state == RecipientState.BOUNCED
    assert (nobody.code, nobody.enhanced_code) == (550, "5.1.1")
    assert "User unknown" in nobody.reply
    assert sent.recipients.get(address="fine@example.test").state == RecipientState.ACCEPTED


def test_an_upper_cased_envelope_id_still_matches(sent):
    raw = report("postfix-bounce.eml", sent, envid=str(sent.pk).upper())
    assert bounces.apply(sent.account_id, dsn.parse(raw)) == 1


def test_without_an_envelope_id_the_returned_message_id_matches(sent):
    raw = report("postfix-bounce.eml", sent, envid="")
    assert bounces.apply(sent.account_id, dsn.parse(raw)) == 1


def test_a_delay_report_marks_delayed_but_never_undoes_a_bounce(sent):
    bounces.apply(sent.account_id, dsn.parse(report("delayed.eml", sent)))
    assert sent.recipients.get(address="slow@example.test").state == RecipientState.DELAYED
    Recipient.objects.filter(address="slow@example.test").update(state=RecipientState.BOUNCED)
    bounces.apply(sent.account_id, dsn.parse(report("delayed.eml", sent)))
    assert sent.recipients.get(address="slow@example.test").state == RecipientState.BOUNCED


def test_a_report_in_another_accounts_mailbox_changes_nothing(sent):
    other = MailAccountFactory()
    assert bounces.apply(other.pk, dsn.parse(report("postfix-bounce.eml", sent))) == 0
    assert sent.recipients.get(address="nobody@example.test").state == RecipientState.ACCEPTED


def test_a_garbled_report_is_ignored_safely(sent):
    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x--\r\n"
    )
    parsed = dsn.parse(raw)
    assert parsed is not None and parsed.recipients == []
    assert bounces.apply(sent.account_id, parsed) == 0


def test_a_bounce_arriving_in_the_inbox_is_matched_during_sync(sender, dovecot, smtp_server):
    from outbox import delivery

    message = queue_message(sender, to="nobody@example.test, fine@example.test")
    delivery.deliver(str(message.pk))
    assert message.recipients.filter(state=RecipientState.ACCEPTED).count() == 2
    dovecot.deliver(sender.email, report("postfix-bounce.eml", message))
    sync_account(sender.mail_accounts.get(), ["INBOX"])
    assert message.recipients.get(address="nobody@example.test").state == RecipientState.BOUNCED
    assert message.recipients.get(address="fine@example.test").state == RecipientState.ACCEPTED
