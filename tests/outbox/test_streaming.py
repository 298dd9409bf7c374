"""A message is streamed to the server a piece at a time, exactly as aiosmtplib would send it whole."""

from __future__ import annotations

import asyncio

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import MailAccount
from outbox import delivery
from outbox.compose import Attachment
from outbox.models import MessageState, OutgoingMessage, RecipientState
from tests.outbox.helpers import queue_message
from webmail.protocol import smtp


def as_aiosmtplib_sends_it(data: bytes) -> bytes:
    """What aiosmtplib's own ``SMTP.data()`` writes after the 354 (protocol.execute_data_command)."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


# Line ends of every kind, dots, and little else, so that they meet at the pieces' edges.
tricky = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b".", b"..", b"a", b"\r.", b"\n."]), max_size=60).map(
    b"".join
)


@settings(max_examples=500, deadline=None)
@given(data=tricky, chunk_bytes=st.integers(min_value=1, max_value=9))
def test_streamed_pieces_are_what_aiosmtplib_sends(data, chunk_bytes):
    pieces = list(smtp.dot_stuffed(data, chunk_bytes))
    assert b"".join(pieces) == as_aiosmtplib_sends_it(data)
    assert pieces[-1].endswith(b".\r\n") and all(pieces), "the final dot comes with the last piece"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), chunk_bytes=st.integers(min_value=1, max_value=64))
def test_streamed_pieces_of_any_bytes_are_what_aiosmtplib_sends(data, chunk_bytes):
    assert b"".join(smtp.dot_stuffed(data, chunk_bytes)) == as_aiosmtplib_sends_it(data)


def test_a_message_shorter_than_a_piece_is_written_at_once():
    assert list(smtp.dot_stuffed(b".hi\n.\n")) == [b"..hi\r\n..\r\n.\r\n"]


def test_what_the_server_receives_of_a_message_of_many_pieces_is_the_message(sender, smtp_server):
    # Every kind of line end and leading dot, on and around the pieces' edges.
    edge = smtp.CHUNK_BYTES
    data = bytearray(b"Subject: pieces\r\n\r\n" + (b"x" * 70 + b"\n") * (3 * edge // 71))
    for at in range(edge - 3, 3 * edge, edge):
        data[at : at + 6] = b"\r\n.\r.\n"
    data += b".last line, no line end"
    account = MailAccount.objects.select_related("user").get(user=sender)
    envelope = smtp.Envelope("m1", sender.email, [smtp.EnvelopeRecipient(1, "ann@example.test")], bytes(data))

    async def send() -> smtp.SubmissionResult:
        connection = await smtp.open_connection(account)
        try:

            async def marked() -> None:
                pass

            return await smtp.submit(connection, envelope, marked)
        finally:
            await connection.close()

    result = asyncio.run(send())
    assert list(result.accepted) == [1], result
    assert smtp_server.wait_for(1)[0].data == normalize_message_line_endings(bytes(data))


def test_a_connection_lost_while_the_message_is_streamed_defers_it(sender, smtp_server):
    # Cut before the final dot was sent, the message cannot have been taken: it is retried,
    # not left "uncertain" for the user to decide.
    smtp_server.handler.drop_after_go_ahead()
    archive = Attachment("archive.bin", "application/octet-stream", bytes(range(256)) * 40_000)  # 10 MB
    message = queue_message(sender, to="ann@example.test", attachments=[archive])
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert (message.state, message.recipients.get().state) == (MessageState.DEFERRED, RecipientState.DEFERRED)
    assert "before the message was sent" in message.recipients.get().reply
    assert smtp_server.messages == []

    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    delivery.deliver(str(message.pk))
    assert smtp_server.wait_for(1)[0].data == normalize_message_line_endings(bytes(message.mime))
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.SENT
