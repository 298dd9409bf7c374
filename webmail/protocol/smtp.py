"""Submitting mail over SMTP, one transaction at a time on a logged-in connection.

What the server says is kept word for word (code, enhanced status code, text) for the attempt
log; what it means for a recipient (accepted, deferred, rejected) is decided here, and what it
means for the message is decided by ``outbox.delivery.outcomes``. Logging in is
``webmail.protocol.smtp_login`` (its public names are re-exported here).
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import aiosmtplib
from aiosmtplib.protocol import LINE_ENDINGS_REGEX
from django.conf import settings
from django.utils import timezone

from webmail.protocol.mailservers import SmtpAccount
from webmail.protocol.smtp_login import (  # noqa: F401  re-exported: the SMTP API in one place
    AuthenticationRefused,
    Reply,
    check_login,
    connect,
    describe_failure,
    helo_name,
    peer_certificate,
)

T = TypeVar("T")


# -- submission -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One command and its reply, for the attempt log."""

    step: str
    started_at: datetime
    duration_ms: int
    reply: Reply
    recipient_id: int | None = None


@dataclass(frozen=True)
class EnvelopeRecipient:
    id: int
    address: str


@dataclass
class Envelope:
    message_id: str  # our id, also the DSN envelope id
    sender: str
    recipients: list[EnvelopeRecipient]
    data: bytes
    delivery_receipt: bool = False


@dataclass
class SubmissionResult:
    """What happened to one message on one connection."""

    # Recipient id -> the reply that settled it. For the accepted, the end of DATA's: that is the
    # answer that took the message (and names it, "queued as ..."); RCPT's only took the
    # address, and stays in the attempt log.
    accepted: dict[int, Reply] = field(default_factory=dict)
    deferred: dict[int, Reply] = field(default_factory=dict)
    rejected: dict[int, Reply] = field(default_factory=dict)
    uncertain: bool = False
    exchanges: list[Exchange] = field(default_factory=list)
    error: str = ""
    retry_after: int | None = None


@dataclass
class Connection:
    client: aiosmtplib.SMTP
    tls_version: str = ""
    tls_cipher: str = ""
    broken: bool = False

    @property
    def dsn(self) -> bool:
        return self.client.supports_extension("dsn")

    @property
    def size_limit(self) -> int | None:
        value = self.client.esmtp_extensions.get("size", "").strip()
        return int(value) if value.isdigit() and int(value) > 0 else None

    async def close(self) -> None:
        try:
            if self.client.is_connected and not self.broken:
                await asyncio.wait_for(self.client.quit(), timeout=5)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            self.client.close()


async def open_connection(account: SmtpAccount) -> Connection:
    """Connect, TLS, AUTH. Raises AuthenticationRefused or MailServerError."""
    client = await connect(account, timeout=settings.WEBMAIL_SMTP_TIMEOUT)
    connection = Connection(client)
    ssl_object = client.get_transport_info("ssl_object")
    if ssl_object is not None:
        connection.tls_version = ssl_object.version() or ""
        connection.tls_cipher = (ssl_object.cipher() or ("",))[0]
    return connection


def _xtext(value: str) -> str:
    # RFC 3461 xtext: "+" and "=" and anything outside 33..126 become +XX.
    return "".join(ch if 33 <= ord(ch) <= 126 and ch not in "+=" else f"+{ord(ch):02X}" for ch in value)


def _reply(exc: aiosmtplib.SMTPResponseException) -> Reply:
    return Reply(exc.code, exc.message)


def _classify(reply: Reply) -> str:
    if reply.code is not None and 200 <= reply.code < 300:
        return "accepted"
    if reply.code is not None and 500 <= reply.code < 600:
        return "rejected"
    return "deferred"


async def submit(
    connection: Connection, envelope: Envelope, before_data: Callable[[], Awaitable[None]]
) -> SubmissionResult:
    """One SMTP transaction. ``before_data`` runs (and must succeed) once the recipients are
    answered and before the message itself is sent, so that a crash after that point is known to
    be one after which the message may have gone. The DATA command goes out meanwhile; if
    ``before_data`` raises, the transaction is ended without the message (reset, or hung up if
    the server is already waiting for it) and the exception passes on."""
    transaction = _Transaction(connection, envelope)
    if transaction.fits():
        accepted = await transaction.recipients()
        if accepted:
            await transaction.message(accepted, before_data)
    return transaction.result


class _Transaction:
    """The steps of one SMTP transaction, recording each reply in ``result``."""

    def __init__(self, connection: Connection, envelope: Envelope) -> None:
        self.connection = connection
        self.client = connection.client
        self.envelope = envelope
        self.result = SubmissionResult()
        self.pending = {r.id for r in envelope.recipients}

    async def command(
        self, step: str, call: Callable[[], Awaitable[aiosmtplib.SMTPResponse]], recipient_id: int | None = None
    ) -> Reply:
        started, clock = timezone.now(), time.monotonic()
        try:
            response = await call()
            reply = Reply(response.code, response.message)
        except aiosmtplib.SMTPResponseException as exc:
            reply = _reply(exc)
        elapsed = int((time.monotonic() - clock) * 1000)
        self.result.exchanges.append(Exchange(step, started, elapsed, reply, recipient_id))
        return reply

    def settle_all(self, ids: Iterable[int], reply: Reply) -> None:
        verdict = _classify(reply)
        for rid in ids:
            (self.result.deferred if verdict == "deferred" else self.result.rejected)[rid] = reply
        if verdict == "deferred":
            self.result.retry_after = reply.retry_after
        self.result.error = f"{reply.code} {reply.text}".strip()

    def fits(self) -> bool:
        """Whether the message is within the size the server announced; if not, every recipient
        is rejected without a word to the server."""
        limit, size = self.connection.size_limit, len(self.envelope.data)
        if limit is None or size <= limit:
            return True
        reply = Reply(552, f"5.3.4 message is {size} bytes; the server takes at most {limit}")
        self.result.exchanges.append(Exchange("size", timezone.now(), 0, reply))
        self.settle_all(self.pending, reply)
        return False

    async def recipients(self) -> list[int]:
        """MAIL FROM and a RCPT TO per recipient; the ids of the recipients the server accepted
        (none: the transaction is over)."""
        client, envelope, result = self.client, self.envelope, self.result
        dsn = self.connection.dsn
        mail_options = [f"SIZE={len(envelope.data)}"] if self.connection.size_limit is not None else []
        if dsn:
            mail_options += ["RET=HDRS", f"ENVID={_xtext(envelope.message_id)}"]
        notify = "SUCCESS,FAILURE,DELAY" if envelope.delivery_receipt else "FAILURE,DELAY"
        try:
            reply = await self.command("mail", lambda: client.mail(envelope.sender, options=mail_options))
            if _classify(reply) != "accepted":
                self.settle_all(self.pending, reply)
                await _reset(self.connection)
                return []
            accepted: list[int] = []
            for recipient in envelope.recipients:
                options = [f"NOTIFY={notify}", f"ORCPT=rfc822;{_xtext(recipient.address)}"] if dsn else []
                rcpt = functools.partial(client.rcpt, recipient.address, options=options)
                reply = await self.command("rcpt", rcpt, recipient.id)
                verdict = _classify(reply)
                if verdict == "accepted":
                    accepted.append(recipient.id)
                elif verdict == "deferred":
                    result.deferred[recipient.id] = reply
                    result.retry_after = max(result.retry_after or 0, reply.retry_after or 0) or None
                else:
                    result.rejected[recipient.id] = reply
            if not accepted:
                result.error = "no recipient was accepted"
                await _reset(self.connection)
            return accepted
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Nothing was handed over yet: everything still open may be tried again.
            self.connection.broken = True
            still_open = self.pending - set(result.deferred) - set(result.rejected)
            self.settle_all(still_open, Reply(None, f"connection lost before DATA: {describe_failure(exc)}"))
            return []

    async def message(self, accepted: list[int], before_data: Callable[[], Awaitable[None]]) -> None:
        """DATA and the message, for the recipients the server accepted.

        DATA goes out while the mark is written (``before_data``): the server cannot take the
        message before its end, and that is sent only once the mark is committed. (A crash in
        between leaves a marked message that was never handed over; it is shown as uncertain
        all the same.)"""
        client, result = self.client, self.result
        started, clock = timezone.now(), time.monotonic()
        timeout = settings.WEBMAIL_SMTP_TIMEOUT
        go_ahead = asyncio.ensure_future(client.execute_command(b"DATA", timeout=timeout))
        try:
            await before_data()
        except BaseException:
            await _abandon_data(self.connection, go_ahead)
            raise
        try:
            response = await go_ahead
            if response.code == 354:
                response = await _send_message(client, self.envelope.data, timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.connection.broken = True
            if not isinstance(exc, NoAnswerAfterMessage):  # nothing was handed over
                lost = Reply(None, f"connection lost before the message was sent: {describe_failure(exc)}")
                self.settle_all(accepted, lost)
                return
            # The message may or may not have been taken: never guess, never resend on our own.
            result.uncertain = True
            result.error = f"no answer after the message was sent: {describe_failure(exc)}"
            result.exchanges.append(Exchange("data", started, 0, Reply(None, result.error)))
            return
        reply = Reply(response.code, response.message)
        result.exchanges.append(Exchange("data", started, int((time.monotonic() - clock) * 1000), reply))
        if _classify(reply) == "accepted":
            result.accepted = dict.fromkeys(accepted, reply)
        else:
            self.settle_all(accepted, reply)
            await _reset(self.connection)


# A message goes to the connection this much at a time: it is never copied whole (a 25 MB
# message sent in one write was held three more times over, transformed and in the TLS buffer).
CHUNK_BYTES = 256 * 1024
_PERIOD_AFTER_LINE_END = re.compile(rb"(?<=\n)\.")


def dot_stuffed(data: bytes, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``data`` as aiosmtplib's ``data()`` sends it (every line end made CRLF, a dot that starts a
    line doubled, CRLF at the end if missing, then the final dot), a piece at a time; the last
    piece ends with the final dot (a message shorter than a piece is one piece)."""
    view = memoryview(data)
    held_cr = False  # a piece ended in CR: a line end of its own, or half of a CRLF
    line_start, ends_in_crlf = True, False
    previous = b""
    for offset in range(0, len(view), chunk_bytes):
        piece = bytes(view[offset : offset + chunk_bytes])
        if held_cr:
            piece = b"\r" + piece
        held_cr = piece.endswith(b"\r")
        if held_cr:
            piece = piece[:-1]
        if not piece:
            continue
        piece = _PERIOD_AFTER_LINE_END.sub(b"..", LINE_ENDINGS_REGEX.sub(b"\r\n", piece))
        if line_start and piece.startswith(b"."):
            piece = b"." + piece
        line_start = ends_in_crlf = piece.endswith(b"\n")  # every LF is a CRLF's by now
        if previous:
            yield previous
        previous = piece
    yield previous + (b"\r\n" if held_cr or not ends_in_crlf else b"") + b".\r\n"


class NoAnswerAfterMessage(aiosmtplib.SMTPServerDisconnected):
    """The connection failed or stalled once the message's final dot was sent: the server may
    have taken the message. (Before the final dot, it cannot have.)"""


async def _send_message(client: aiosmtplib.SMTP, data: bytes, timeout: float) -> aiosmtplib.SMTPResponse:
    """The message after a 354, streamed (see ``dot_stuffed``) as fast as the connection takes
    it, and the server's answer, waited for up to twice ``timeout`` after the final dot."""
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    # Listening from the start: a server may answer (and hang up) before the end, and an
    # answer that arrives while nobody listens is dropped by aiosmtplib.
    answer = asyncio.ensure_future(protocol.read_response(timeout=None))
    await asyncio.sleep(0)
    end_sent = False
    try:
        pieces = dot_stuffed(data)
        piece: bytes | None = next(pieces)
        while piece is not None and not answer.done():
            following = next(pieces, None)
            protocol.write(piece)
            end_sent = following is None
            # Flow control: wait while the transport holds more than its high-water mark. This
            # is the hook asyncio's StreamWriter.drain() awaits; aiosmtplib has no public one.
            await _within(protocol._drain_helper(), timeout)
            piece = following
        response = await _within(answer, timeout * 2)
        if not end_sent:  # answered before the end: what the server makes of the rest is anyone's guess
            client.close()
        return response
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        if end_sent:
            raise NoAnswerAfterMessage(str(exc)) from exc
        raise
    finally:
        if not answer.done():
            answer.cancel()
        elif not answer.cancelled():
            answer.exception()  # retrieved: a lost connection's is the one raised above


async def _within(awaitable: Awaitable[T], timeout: float) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise aiosmtplib.SMTPTimeoutError("timed out") from None


async def _abandon_data(connection: Connection, go_ahead: asyncio.Future) -> None:
    """The message was not marked and must not go: end the transaction without sending it."""
    try:
        response = await go_ahead
    except (aiosmtplib.SMTPException, OSError):
        connection.broken = True
        return
    if response.code == 354:  # the server waits for the message: hanging up ends that, and it delivers nothing
        connection.broken = True
        connection.client.close()
    else:
        await _reset(connection)


async def _reset(connection: Connection) -> None:
    try:
        await connection.client.rset()
    except (aiosmtplib.SMTPException, OSError):
        connection.broken = True
