"""Everything that speaks SMTP."""

from __future__ import annotations

import asyncio
import socket

import aiosmtplib
from django.conf import settings

from accounts.mailservers import MailServerError, check_peer, client_context, describe_network_error
from accounts.models import MailAccount, Security, is_loopback


def helo_name() -> str:
    return settings.WEBMAIL_SMTP_HELO_NAME or socket.gethostname()


async def connect(account: MailAccount, timeout: float | None = None) -> aiosmtplib.SMTP:
    """An SMTP session past TLS and AUTH; failures are raised as MailServerError in plain words."""
    host, port, security = account.smtp_host, account.smtp_port, account.smtp_security
    if security == Security.NONE and not is_loopback(host):
        raise MailServerError("refusing an unencrypted connection to a server that is not on this machine")
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        local_hostname=helo_name(),
        timeout=timeout or settings.WEBMAIL_CONNECT_TIMEOUT,
        use_tls=security == Security.TLS,
        start_tls=security == Security.STARTTLS,
        tls_context=client_context(account) if security != Security.NONE else None,
    )
    try:
        await client.connect()
        if security != Security.NONE:
            check_peer(account, client.get_transport_info("ssl_object"))
        username, password = account.smtp_credentials()
        await client.login(username, password)
    except BaseException as exc:
        client.close()
        if isinstance(exc, MailServerError):
            raise
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            raise MailServerError(f"authentication failed ({exc.code} {_first_line(exc.message)})") from None
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            raise MailServerError(f"the server refused ({exc.code} {_first_line(exc.message)})") from None
        if isinstance(exc, aiosmtplib.SMTPException | OSError):
            raise MailServerError(_describe(exc)) from exc
        raise
    return client


async def _check_login(account: MailAccount) -> str:
    client = await connect(account)
    try:
        cipher = client.get_transport_info("cipher") if account.smtp_security != Security.NONE else None
        tls = cipher[1] if cipher else "no TLS"
        return f"authenticated to {account.smtp_host}:{account.smtp_port} ({tls})"
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()


def check_login(account: MailAccount) -> str:
    """Connect, authenticate and quit. Returns what worked; raises MailServerError with what did not."""
    return asyncio.run(_check_login(account))


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
