"""Everything that speaks IMAP."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import imapclient
from django.conf import settings
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SENT

from accounts.mailservers import MailServerError, check_peer, client_context, describe_network_error
from accounts.models import MailAccount, Security, is_loopback


def _connect(account: MailAccount, context: ssl.SSLContext, timeout: float) -> IMAPClient:
    host, port, security = account.imap_host, account.imap_port, account.imap_security
    if security == Security.NONE and not is_loopback(host):
        raise MailServerError("refusing an unencrypted connection to a server that is not on this machine")
    client = IMAPClient(host, port, ssl=security == Security.TLS, ssl_context=context, timeout=timeout)
    try:
        if security == Security.STARTTLS:
            client.starttls(context)
        if security != Security.NONE:
            check_peer(account, client.socket())
    except BaseException:
        client.shutdown()
        raise
    return client


@contextmanager
def logged_in(account: MailAccount, timeout: float | None = None) -> Iterator[IMAPClient]:
    """An authenticated IMAP session; failures are raised as MailServerError in plain words."""
    timeout = timeout or settings.WEBMAIL_CONNECT_TIMEOUT
    try:
        client = _connect(account, client_context(account), timeout)
    except MailServerError:
        raise
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise MailServerError(_describe(exc)) from exc
    try:
        username, password = account.imap_credentials()
        try:
            if username.isascii() and password.isascii():
                client.login(username, password)
            else:
                # LOGIN cannot carry non-ASCII; AUTHENTICATE PLAIN sends UTF-8.
                client.plain_login(username, password)
        except LoginError as exc:
            raise MailServerError(f"authentication failed ({_server_words(exc)})") from None
        except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            raise MailServerError(_describe(exc)) from exc
        yield client
    finally:
        try:
            client.logout()
        except (OSError, IMAPClientError, imaplib.IMAP4.error):
            client.shutdown()


def check_login(account: MailAccount) -> str:
    """Log in and out once. Returns what worked; raises MailServerError with what did not."""
    with logged_in(account) as client:
        tls = _tls_description(client) if account.imap_security != Security.NONE else "no TLS"
        return f"logged in to {account.imap_host}:{account.imap_port} ({tls})"


def _tls_description(client: IMAPClient) -> str:
    sock = client.socket()
    version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
    return version or "TLS"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return describe_network_error(exc)
    text = _server_words(exc)
    if "STARTTLS" in text.upper():
        return "the server does not offer STARTTLS"
    return f"the server refused the connection ({text})" if text else "the server refused the connection"


def _server_words(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text.strip()[:200]


def sent_folder(client: IMAPClient, configured: str = "") -> str:
    """The account's configured Sent folder, else the one the server marks \\Sent, else "Sent"."""
    if configured:
        return configured
    return client.find_special_folder(SENT) or "Sent"


def append_once(client: IMAPClient, folder: str, raw: bytes, message_id: str, when) -> bool:
    """APPEND ``raw`` to ``folder`` unless a message with this Message-ID is already there.

    Returns False when it was already there (an earlier try appended it and then lost the reply).
    """
    if any(ch in folder for ch in "\r\n\0") or any(ch in message_id for ch in "\r\n\0"):
        raise MailServerError("refusing a folder name or Message-ID with a line break")
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        client.select_folder(folder, readonly=True)
        if client.search(["HEADER", "Message-ID", message_id]):
            return False
        client.append(folder, raw, flags=[imapclient.SEEN], msg_time=when)
        return True
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise MailServerError(_describe(exc)) from exc
