"""Reaching the SMTP server: connect, TLS (implicit or STARTTLS, with the account's certificate
checks), AUTH, and the plain words for each way that fails; the admin's connection check and
the look at a server's certificate for pinning; and what an SMTP reply is (``Reply``).
Submitting is ``webmail.protocol.smtp``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from dataclasses import dataclass

import aiosmtplib
from django.conf import settings
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
            raise MailServerError(describe_failure(exc)) from exc
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
        raise MailServerError(describe_failure(exc)) from exc
    finally:
        client.close()


def peer_certificate(account: SmtpAccount, timeout: float | None = None) -> bytes | None:
    """The certificate the SMTP server presents (DER), taken without verifying it, for the admin
    to check and pin. None without TLS."""
    if account.smtp_security == Security.NONE:
        return None
    return asyncio.run(_peer_certificate(account, timeout))


def describe_failure(exc: BaseException) -> str:
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
