"""End to end through a real Postfix: the webmail submits, Postfix delivers into Dovecot.

The sender's account is set up as a user would set up one at a mail provider: SMTP is
Postfix's submission port (STARTTLS, AUTH checked by Dovecot), IMAP is the same Dovecot that
Postfix delivers into over LMTP. See tests/servers/postfix.py for that server's policy.
"""

from __future__ import annotations

import email
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from outbox import delivery, sentcopy
from outbox.models import DeliveryAttempt, MessageState, RecipientState, SentCopy
from tests.factories import user_on_test_servers
from tests.outbox.helpers import queue_message
from tests.servers.dovecot import Dovecot
from tests.servers.fixtures import MailAccount
from tests.servers.postfix import Postfix
from tests.webmail.mailbox.helpers import sync_account

DELIVERY_TIMEOUT = 20.0


@pytest.fixture
def sender(transactional_db, dovecot, postfix, mail_account, pki, settings):
    """A user whose account submits through Postfix and reads (and files Sent mail) in Dovecot."""
    settings.WEBMAIL_UNDO_SECONDS = 0
    return user_on_test_servers(mail_account, dovecot, pki, smtp_host=postfix.host, smtp_port=postfix.submission_port)


@pytest.fixture
def recipient(dovecot: Dovecot) -> MailAccount:
    """A second Dovecot user of example.test, the one the mail is for."""
    account = MailAccount(f"rcpt-{uuid.uuid4().hex[:12]}@example.test", "rcpt-secret")
    dovecot.add_user(account.address, account.password)
    return account


def wait_for_mail(dovecot: Dovecot, postfix: Postfix, address: str, count: int = 1) -> list[EmailMessage]:
    """The INBOX of ``address`` once it holds ``count`` messages (Postfix delivers in the background)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        raw = dovecot.mailbox_messages(address)
        if len(raw) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(raw) == count, f"{len(raw)} message(s) in {address}'s INBOX, expected {count}:\n{postfix.log_text()}"
    return [email.message_from_bytes(r, policy=default_policy) for r in raw]


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def test_a_message_goes_through_postfix_into_the_recipients_inbox(sender, recipient, dovecot, postfix):
    message = queue_message(sender, to=f"Rita Recipient <{recipient.address}>", subject="Through a real MTA")
    delivery.deliver(str(message.pk))

    message.refresh_from_db()
    assert message.state == MessageState.SENT, f"{message.last_error}\n{postfix.log_text()}"
    [rcpt] = message.recipients.all()
    assert (rcpt.state, rcpt.code) == (RecipientState.ACCEPTED, 250)
    assert DeliveryAttempt.objects.filter(message=message, step="data").get().tls_version.startswith("TLS")

    [delivered] = wait_for_mail(dovecot, postfix, recipient.address)
    assert delivered["Subject"] == "Through a real MTA"
    assert delivered["Message-ID"] == message.message_id
    assert delivered["Return-Path"] == f"<{sender.email}>", "the envelope sender is the account's address"
    # Postfix and Dovecot only add trace headers on top; the message itself arrives intact.
    assert crlf(delivered.as_bytes()).endswith(crlf(bytes(message.mime)))

    assert message.sent_copy == SentCopy.PENDING, "Postfix does not file Sent mail: the webmail must"
    sentcopy.save_sent_copy(str(message.pk))
    message.refresh_from_db()
    assert message.sent_copy == SentCopy.DONE
    assert [crlf(c) for c in dovecot.mailbox_messages(sender.email, "Sent")] == [crlf(bytes(message.mime))]


def test_postfix_is_no_open_relay(postfix, pki, recipient):
    with smtplib.SMTP(postfix.host, postfix.submission_port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("auth"), "AUTH only after STARTTLS"
        assert client.mail("someone@example.test")[0] == 530, "nothing at all before STARTTLS"
        client.starttls(context=pki.client_ssl_context())
        client.ehlo()
        assert client.has_extn("auth")

        # Encrypted but not authenticated: neither relaying nor local delivery is allowed.
        assert client.mail("spammer@elsewhere.test")[0] == 250
        code, reply = client.rcpt("someone@elsewhere.test")
        assert (code, reply.decode()) == (554, "5.7.1 <someone@elsewhere.test>: Relay access denied")
        code, reply = client.rcpt(recipient.address)
        assert code == 554 and reply.startswith(b"5.7.1 "), reply


def test_an_unknown_local_user_is_refused_at_rcpt_and_the_others_still_get_it(sender, recipient, dovecot, postfix):
    nobody = f"nobody-{uuid.uuid4().hex[:12]}@example.test"
    message = queue_message(sender, to=f"{nobody}, {recipient.address}", subject="Half known")
    delivery.deliver(str(message.pk))

    message.refresh_from_db()
    assert message.state == MessageState.SENT, f"{message.last_error}\n{postfix.log_text()}"
    unknown = message.recipients.get(address=nobody)
    assert unknown.state == RecipientState.REJECTED
    assert (unknown.code, unknown.enhanced_code) == (550, "5.1.1")
    # Postfix asked Dovecot (LMTP) and passes its answer on.
    assert f"<{nobody}> User doesn't exist" in unknown.reply
    assert message.recipients.get(address=recipient.address).state == RecipientState.ACCEPTED
    [delivered] = wait_for_mail(dovecot, postfix, recipient.address)
    assert delivered["Message-ID"] == message.message_id


def test_a_delivery_receipt_comes_back_as_postfixs_dsn(sender, recipient, dovecot, postfix):
    message = queue_message(sender, to=recipient.address, subject="Did it arrive?", delivery_receipt=True)
    delivery.deliver(str(message.pk))
    wait_for_mail(dovecot, postfix, recipient.address)

    [report] = wait_for_mail(dovecot, postfix, sender.email)
    assert report.get_content_type() == "multipart/report"
    assert report["Auto-Submitted"] == "auto-replied"
    _notification, status, returned = report.iter_parts()
    # The envelope id (ENVID) and the recipient's original address (ORCPT) come back, so the
    # webmail can tell which message and which recipient the report is about.
    per_message, per_recipient = status.get_payload()
    assert per_message["Original-Envelope-Id"] == str(message.pk)
    assert per_recipient["Original-Recipient"].replace(" ", "") == f"rfc822;{recipient.address}"
    assert per_recipient["Status"] == "2.0.0"
    # RET=HDRS: the headers come back, not the whole message.
    assert returned.get_content_type() == "text/rfc822-headers"
    assert message.message_id in returned.get_content()
    # ...and the next sync of the sender's inbox marks the recipient delivered.
    from outbox.models import RecipientState

    sync_account(sender.mail_accounts.get(), ["INBOX"])
    assert message.recipients.get().state == RecipientState.DELIVERED
