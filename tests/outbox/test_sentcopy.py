"""Copies of sent mail land in the sender's real Dovecot Sent folder, once."""

from __future__ import annotations

from django.utils import timezone

from outbox import delivery, sentcopy
from outbox.models import OutgoingMessage, SentCopy
from tests.outbox.helpers import queue_message
from tests.servers.fixtures import free_port


def sent_and_due(sender) -> OutgoingMessage:
    message = queue_message(sender, to="ann@example.test", subject="Filed")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.sent_copy == SentCopy.PENDING
    assert sentcopy.due_copies() == [str(message.pk)]
    return message


def test_the_exact_bytes_are_filed_in_sent_once(sender, dovecot):
    message = sent_and_due(sender)
    sentcopy.save_sent_copy(str(message.pk))
    message.refresh_from_db()
    assert message.sent_copy == SentCopy.DONE
    copies = dovecot.mailbox_messages(sender.email, "Sent")
    assert [c.replace(b"\r\n", b"\n") for c in copies] == [bytes(message.mime).replace(b"\r\n", b"\n")]


def test_a_retry_after_a_lost_reply_does_not_duplicate_the_copy(sender, dovecot):
    message = sent_and_due(sender)
    sentcopy.save_sent_copy(str(message.pk))
    # As if the worker died after APPEND but before recording it.
    OutgoingMessage.objects.filter(pk=message.pk).update(sent_copy=SentCopy.PENDING, sent_copy_due_at=timezone.now())
    sentcopy.save_sent_copy(str(message.pk))
    assert len(dovecot.mailbox_messages(sender.email, "Sent")) == 1
    assert OutgoingMessage.objects.get(pk=message.pk).sent_copy == SentCopy.DONE


def test_an_unreachable_imap_server_is_retried_later(sender, dovecot):
    message = sent_and_due(sender)
    account = message.account
    account.imap_port = free_port()
    account.save()
    sentcopy.save_sent_copy(str(message.pk))
    message.refresh_from_db()
    assert message.sent_copy == SentCopy.PENDING
    assert message.sent_copy_attempts == 1
    assert message.sent_copy_due_at > timezone.now()
    assert sentcopy.due_copies() == []


def test_no_copy_when_the_server_files_sent_mail_itself(sender, dovecot):
    sender.mail_accounts.update(server_saves_sent=True)
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.sent_copy == SentCopy.NOT_NEEDED


def test_a_configured_folder_is_used_and_created(sender, dovecot):
    sender.mail_accounts.update(sent_folder="Outgoing")
    message = sent_and_due(sender)
    sentcopy.save_sent_copy(str(message.pk))
    assert len(dovecot.mailbox_messages(sender.email, "Outgoing")) == 1
