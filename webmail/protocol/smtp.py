"""Everything that speaks SMTP: logging in, and submitting one message at a time on a connection.

What the server says is kept word for word (code, enhanced status code, text) for the attempt
log; what it means for a recipient (accepted, deferred, rejected) is decided here, and what it
means for the message is decided by ``outbox.delivery``.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import aiosmtplib
from aiosmtplib.protocol import LINE_ENDINGS_REGEX
from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from webmail.protocol.mailservers import (
    MailServerError,
    Password,
    Security,
    SmtpAccount,
    check_peer,
    client_context,
    describe_network_error,
    is_loopback,
    unverified_context,
)

T = TypeVar("T")


class AuthenticationRefused(MailServerError):
    """The server refused to log the account in for good (535 / 5.7.8: the password; other 5xx:
    how we log in): retrying cannot help."""

    def __init__(self, message: str, code: int, reply: str) -> None:
        super().__init__(message)
        self.code = code
        self.reply = reply


def helo_name() -> str:
    return settings.WEBMAIL_SMTP_HELO_NAME or socket.gethostname()


def _client(account: SmtpAccount, timeout: float | None, tls_context: ssl.SSLContext) -> aiosmtplib.SMTP:
    host, port, security = account.smtp_host, account.smtp_port, account.smtp_security
    if security == Security.NONE and not is_loopback(host):
        raise MailServerError("refusing an unencrypted connection to a server that is not on this machine")
    return aiosmtplib.SMTP(
        hostname=host,
        port=port,
        local_hostname=helo_name(),
        timeout=timeout or settings.WEBMAIL_CONNECT_TIMEOUT,
        use_tls=security == Security.TLS,
        start_tls=security == Security.STARTTLS,
        tls_context=tls_context if security != Security.NONE else None,
    )


@sensitive_variables("password", "credentials")
async def connect(
    account: SmtpAccount, timeout: float | None = None, credentials: tuple[str, Password] | None = None
) -> aiosmtplib.SMTP:
    """An SMTP session past TLS and AUTH; failures are raised as MailServerError in plain words.

    ``credentials`` (``account.smtp_credentials()``) are taken before the event loop runs when
    the account's user may not be loaded yet: the login name may be their email address, and
    the database cannot be queried from here."""
    security = account.smtp_security
    client = _client(account, timeout, client_context(account))
    try:
        await client.connect()
        if security != Security.NONE:
            check_peer(account, client.get_transport_info("ssl_object"))
        username, password = credentials or account.smtp_credentials()
        await client.login(username, password.reveal())  # revealed as the argument only
    except BaseException as exc:
        client.close()
        if isinstance(exc, MailServerError):
            raise
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            raise _auth_failure(exc.code, exc.message) from None
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            raise MailServerError(f"the server refused ({exc.code} {_first_line(exc.message)})") from None
        if isinstance(exc, aiosmtplib.SMTPException | OSError):
            raise MailServerError(_describe(exc)) from exc
        raise
    return client


def _auth_failure(code: int, message: str) -> MailServerError:
    """What a refused AUTH means (RFC 4954). 4xx (454 4.7.0: the server's password backend is
    down) passes: the mail waits and is retried like after any temporary failure. 535 and
    5.7.8 say the password is wrong. The other 5xx (534 5.7.9 mechanism too weak, 538 5.7.11
    encryption required, 504 mechanism unknown ...) say how we log in is not accepted: retrying
    cannot fix that either, so they hold the account as well, in the server's own words, for
    whoever changes the account's settings; mail held is sent once the hold is released."""
    words = f"{code} {_first_line(message)}".strip()
    enhanced = Reply(code, message).enhanced_code
    if 400 <= code < 500 or enhanced.startswith("4."):
        return MailServerError(f"the server could not log the account in just now ({words})")
    if code == 535 or enhanced == "5.7.8":
        return AuthenticationRefused(f"authentication failed: the password was refused ({words})", code, message)
    return AuthenticationRefused(f"the server refuses this way of logging in ({words})", code, message)


@sensitive_variables("credentials")
async def _check_login(account: SmtpAccount, credentials: tuple[str, Password]) -> str:
    client = await connect(account, credentials=credentials)
    try:
        cipher = client.get_transport_info("cipher") if account.smtp_security != Security.NONE else None
        tls = cipher[1] if cipher else "no TLS"
        return f"authenticated to {account.smtp_host}:{account.smtp_port} ({tls})"
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()


@sensitive_variables("credentials")
def check_login(account: SmtpAccount) -> str:
    """Connect, authenticate and quit. Returns what worked; raises MailServerError with what did not."""
    credentials = account.smtp_credentials()  # may read the user's email: not inside the event loop
    return asyncio.run(_check_login(account, credentials))


async def _peer_certificate(account: SmtpAccount, timeout: float | None) -> bytes | None:
    client = _client(account, timeout, unverified_context())
    try:
        await client.connect()  # greeting, EHLO, STARTTLS: nothing of the account's is sent
        ssl_object = client.get_transport_info("ssl_object")
        return ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailServerError(_describe(exc)) from exc
    finally:
        client.close()


def peer_certificate(account: SmtpAccount, timeout: float | None = None) -> bytes | None:
    """The certificate the SMTP server presents (DER), taken without verifying it, for the admin
    to check and pin. None without TLS."""
    if account.smtp_security == Security.NONE:
        return None
    return asyncio.run(_peer_certificate(account, timeout))


def _describe(exc: BaseException) -> str:
    # aiosmtplib wraps the socket error that tells what happened; look through the chain.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiosmtplib.SMTPTimeoutError):
            return "timed out"
        if isinstance(cause, OSError) and not isinstance(cause, aiosmtplib.SMTPException):
            return describe_network_error(cause)
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "AUTH extension not supported" in text:
        return "the server does not offer authentication (AUTH)"
    if "Connection refused" in text:
        return "connection refused"
    if "STARTTLS" in text.upper():
        return "the server does not offer STARTTLS"
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return "connection failed"


def _first_line(message: str) -> str:
    return message.splitlines()[0][:200] if message else ""


# -- submission -------------------------------------------------------------------------------

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")
_RETRY_HINT = re.compile(r"(?:try again|retry)\s+(?:in|after)\s+(\d+)\s*(s|sec|second|m|min|minute)", re.I)


@dataclass(frozen=True)
class Reply:
    code: int | None
    text: str

    @property
    def enhanced_code(self) -> str:
        match = _ENHANCED.match(self.text)
        return match.group(1) if match else ""

    @property
    def retry_after(self) -> int | None:
        """Seconds the server asked us to wait ("try again in 30 seconds"), if it said so."""
        match = _RETRY_HINT.search(self.text)
        if not match:
            return None
        return int(match.group(1)) * (60 if match.group(2).lower().startswith("m") else 1)


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
    client = connection.client
    result = SubmissionResult()
    pending = {r.id for r in envelope.recipients}

    async def command(
        step: str, call: Callable[[], Awaitable[aiosmtplib.SMTPResponse]], recipient_id: int | None = None
    ) -> Reply:
        started, clock = timezone.now(), time.monotonic()
        try:
            response = await call()
            reply = Reply(response.code, response.message)
        except aiosmtplib.SMTPResponseException as exc:
            reply = _reply(exc)
        result.exchanges.append(Exchange(step, started, int((time.monotonic() - clock) * 1000), reply, recipient_id))
        return reply

    def settle_all(ids: Iterable[int], reply: Reply) -> None:
        verdict = _classify(reply)
        for rid in ids:
            (result.deferred if verdict == "deferred" else result.rejected)[rid] = reply
        if verdict == "deferred":
            result.retry_after = reply.retry_after
        result.error = f"{reply.code} {reply.text}".strip()

    limit = connection.size_limit
    if limit is not None and len(envelope.data) > limit:
        reply = Reply(552, f"5.3.4 message is {len(envelope.data)} bytes; the server takes at most {limit}")
        result.exchanges.append(Exchange("size", timezone.now(), 0, reply))
        settle_all(pending, reply)
        return result

    dsn = connection.dsn
    mail_options = [f"SIZE={len(envelope.data)}"] if limit is not None else []
    if dsn:
        mail_options += ["RET=HDRS", f"ENVID={_xtext(envelope.message_id)}"]
    notify = "SUCCESS,FAILURE,DELAY" if envelope.delivery_receipt else "FAILURE,DELAY"

    try:
        reply = await command("mail", lambda: client.mail(envelope.sender, options=mail_options))
        if _classify(reply) != "accepted":
            settle_all(pending, reply)
            await _reset(connection)
            return result
        rcpt_ok: list[int] = []
        for recipient in envelope.recipients:
            options = [f"NOTIFY={notify}", f"ORCPT=rfc822;{_xtext(recipient.address)}"] if dsn else []
            rcpt = functools.partial(client.rcpt, recipient.address, options=options)
            reply = await command("rcpt", rcpt, recipient.id)
            verdict = _classify(reply)
            if verdict == "accepted":
                rcpt_ok.append(recipient.id)
            elif verdict == "deferred":
                result.deferred[recipient.id] = reply
                result.retry_after = max(result.retry_after or 0, reply.retry_after or 0) or None
            else:
                result.rejected[recipient.id] = reply
        if not rcpt_ok:
            result.error = "no recipient was accepted"
            await _reset(connection)
            return result
    except (aiosmtplib.SMTPException, OSError) as exc:
        # Nothing was handed over yet: everything still open may be tried again.
        connection.broken = True
        still_open = pending - set(result.deferred) - set(result.rejected)
        settle_all(still_open, Reply(None, f"connection lost before DATA: {_describe(exc)}"))
        return result

    # DATA goes out while the mark is written: the server cannot take the message before its
    # end, and that is sent only once the mark is committed. (A crash in between leaves a
    # marked message that was never handed over; it is shown as uncertain all the same.)
    started, clock = timezone.now(), time.monotonic()
    timeout = settings.WEBMAIL_SMTP_TIMEOUT
    go_ahead = asyncio.ensure_future(client.execute_command(b"DATA", timeout=timeout))
    try:
        await before_data()
    except BaseException:
        await _abandon_data(connection, go_ahead)
        raise
    try:
        response = await go_ahead
        if response.code == 354:
            response = await _send_message(client, envelope.data, timeout)
    except (aiosmtplib.SMTPException, OSError) as exc:
        connection.broken = True
        if not isinstance(exc, NoAnswerAfterMessage):  # nothing was handed over
            settle_all(rcpt_ok, Reply(None, f"connection lost before the message was sent: {_describe(exc)}"))
            return result
        # The message may or may not have been taken: never guess, never resend on our own.
        result.uncertain = True
        result.error = f"no answer after the message was sent: {_describe(exc)}"
        result.exchanges.append(Exchange("data", started, 0, Reply(None, result.error)))
        return result
    reply = Reply(response.code, response.message)
    result.exchanges.append(Exchange("data", started, int((time.monotonic() - clock) * 1000), reply))
    if _classify(reply) == "accepted":
        result.accepted = dict.fromkeys(rcpt_ok, reply)
    else:
        settle_all(rcpt_ok, reply)
        await _reset(connection)
    return result


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
