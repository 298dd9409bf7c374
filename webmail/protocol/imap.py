"""Everything that speaks IMAP."""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime

import imapclient
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SENT

from webmail.protocol import imap_internals
from webmail.protocol.mailservers import (
    ImapAccount,
    MailServerError,
    Security,
    check_peer,
    client_context,
    describe_network_error,
    is_loopback,
    unverified_context,
)

log = logging.getLogger(__name__)

# What ENABLE switched on, per session (see enabled()).
_enabled: weakref.WeakKeyDictionary[IMAPClient, frozenset[bytes]] = weakref.WeakKeyDictionary()


def _open(account: ImapAccount, context: ssl.SSLContext, timeout: float) -> IMAPClient:
    """Connected, past TLS (implicit or STARTTLS), not logged in; the certificate as ``context`` checks it."""
    host, port, security = account.imap_host, account.imap_port, account.imap_security
    if security == Security.NONE and not is_loopback(host):
        raise MailServerError("refusing an unencrypted connection to a server that is not on this machine")
    client = IMAPClient(host, port, ssl=security == Security.TLS, ssl_context=context, timeout=timeout)
    if not logging.getLogger("imapclient").isEnabledFor(logging.DEBUG):
        imap_internals.quiet_debug(client)
    if security == Security.STARTTLS:
        with _hanging_up_on_failure(client):
            client.starttls(context)
    return client


@contextmanager
def _hanging_up_on_failure(client: IMAPClient) -> Iterator[None]:
    try:
        yield
    except BaseException:
        # A failed TLS handshake has already closed the socket: shutting it down again raises
        # "bad file descriptor", which must not replace the reason (an untrusted certificate).
        with suppress(OSError, IMAPClientError, imaplib.IMAP4.error):
            client.shutdown()
        raise


def _connect(account: ImapAccount, context: ssl.SSLContext, timeout: float) -> IMAPClient:
    client = _open(account, context, timeout)
    if account.imap_security != Security.NONE:
        with _hanging_up_on_failure(client):
            check_peer(account, client.socket())
    return client


def peer_certificate(account: ImapAccount, timeout: float | None = None) -> bytes | None:
    """The certificate the IMAP server presents (DER), taken without verifying it, for the admin
    to check and pin; nothing is sent past STARTTLS. None without TLS."""
    if account.imap_security == Security.NONE:
        return None
    try:
        client = _open(account, unverified_context(), timeout or settings.WEBMAIL_CONNECT_TIMEOUT)
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise MailServerError(_describe(exc)) from exc
    try:
        return client.socket().getpeercert(binary_form=True)
    finally:
        with suppress(OSError, IMAPClientError, imaplib.IMAP4.error):
            client.shutdown()


@contextmanager
def logged_in(account: ImapAccount, timeout: float | None = None) -> Iterator[IMAPClient]:
    """An authenticated IMAP session; failures are raised as MailServerError in plain words."""
    timeout = timeout or settings.WEBMAIL_CONNECT_TIMEOUT
    try:
        client = _connect(account, client_context(account), timeout)
    except MailServerError:
        raise
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise MailServerError(_describe(exc)) from exc
    try:
        try:
            _login(client, account)
            _enable_resync(client)
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


@sensitive_variables("password")
def _login(client: IMAPClient, account: ImapAccount) -> None:
    username, password = account.imap_credentials()
    # The password is revealed only as the argument: it stays a Secret in this frame.
    if username.isascii() and password.reveal().isascii():
        client.login(username, password.reveal())
    else:
        # LOGIN cannot carry non-ASCII; AUTHENTICATE PLAIN sends UTF-8.
        client.plain_login(username, password.reveal())


def _enable_resync(client: IMAPClient) -> None:
    # ENABLE (valid only before a SELECT) makes the server report HIGHESTMODSEQ even for a
    # folder no CONDSTORE client used yet; without it the next sync would have to refresh every
    # flag. QRESYNC (which implies CONDSTORE) lets a SELECT report what changed and what was
    # expunged since then.
    capabilities = client.capabilities()
    wanted = [name for name in (b"CONDSTORE", b"QRESYNC") if name in capabilities]
    if wanted and b"ENABLE" in capabilities:
        _enabled[client] = frozenset(name.upper() for name in client.enable(*wanted)) & set(wanted)


def enabled(client: IMAPClient) -> frozenset[bytes]:
    """The extensions this session ENABLEd (b"CONDSTORE", b"QRESYNC"), as the server confirmed."""
    return _enabled.get(client, frozenset())


def check_login(account: ImapAccount) -> str:
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


def append_once(client: IMAPClient, folder: str, raw: bytes, message_id: str, when: datetime) -> bool:
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


# -- the mailbox: sessions, messages, flags, folders ------------------------------------------
#
# Every argument that came from a user is checked before it reaches the wire: folder names and
# search text must not carry CR, LF or NUL (imapclient sends ASCII strings as quoted strings,
# where a line break would end the command; 8-bit strings go as literals), UIDs must be
# positive ints, flags must be flag atoms. Folder names passed here come from our Folder rows,
# which came from LIST; new names are checked the same way.

_IMAP_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.error)
_FLAG = re.compile(r"\\?[A-Za-z0-9$_.-]+")
_BATCH = 500


class UnsafeArgument(ValueError):
    """An argument that would change the meaning of an IMAP command; a bug or an attack."""


def check_text(value: str, what: str = "argument") -> str:
    if not isinstance(value, str) or any(ch in value for ch in "\r\n\0"):
        raise UnsafeArgument(f"refusing an IMAP {what} with a line break or NUL")
    return value


def is_uid(value: object) -> bool:
    """Whether ``value`` can be a UID: an int from 1 to 2**32-1 (RFC 3501's nz-number)."""
    return type(value) is int and 1 <= value <= MAX_UID


def check_uids(uids: Iterable[int]) -> list[int]:
    checked = []
    for uid in uids:
        if not is_uid(uid):
            raise UnsafeArgument(f"a UID must be an int from 1 to {MAX_UID}, not {uid!r}")
        checked.append(uid)
    return sorted(set(checked))


def _check_flags(flags: Iterable[str | bytes]) -> list[str]:
    checked = []
    for flag in flags:
        flag = flag.decode("ascii") if isinstance(flag, bytes) else flag
        if not _FLAG.fullmatch(flag):
            raise UnsafeArgument(f"not an IMAP flag: {flag!r}")
        checked.append(flag)
    return checked


def _failure(exc: BaseException) -> MailServerError:
    if isinstance(exc, OSError):
        return MailServerError(describe_network_error(exc))
    words = _server_words(exc)
    return MailServerError(f"the server refused the request ({words})" if words else "the server refused the request")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Network and protocol failures inside the block raised as MailServerError in plain words."""
    try:
        yield
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


@contextmanager
def session(account: ImapAccount, timeout: float | None = None) -> Iterator[IMAPClient]:
    """``logged_in``, with failures inside the block (a dropped connection, a refused command)
    raised as MailServerError too."""
    with logged_in(account, timeout) as client, translate_errors():
        yield client


def _select(client: IMAPClient, folder_name: str, *, readonly: bool) -> dict:
    check_text(folder_name, "folder name")
    with translate_errors():
        return client.select_folder(folder_name, readonly=readonly)


def _batches(uids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(uids), _BATCH):
        yield uids[start : start + _BATCH]


def fetch_raw(client: IMAPClient, folder_name: str, uid: int) -> bytes | None:
    """The whole message, or None when it is not (or no longer) there. Sets no flag."""
    (uid,) = check_uids([uid])
    _select(client, folder_name, readonly=True)
    with translate_errors():
        data = client.fetch([uid], [b"BODY.PEEK[]"]).get(uid)
    return data.get(b"BODY[]") if data else None


def set_flags(
    client: IMAPClient, folder_name: str, uids: Iterable[int], flags: Iterable[str], add: bool = True
) -> None:
    uids, flags = check_uids(uids), _check_flags(flags)
    if not uids:
        return
    _select(client, folder_name, readonly=False)
    with translate_errors():
        for batch in _batches(uids):
            if add:
                client.add_flags(batch, flags, silent=True)
            else:
                client.remove_flags(batch, flags, silent=True)


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("UIDPLUS"):
        client.expunge(uids)  # UID EXPUNGE: only these, whatever else carries \Deleted
    else:
        # Without UIDPLUS the only EXPUNGE there is also removes what other clients marked
        # \Deleted and left for later; every server worth using has UIDPLUS.
        client.expunge()


def move(client: IMAPClient, folder_name: str, uids: Iterable[int], target_name: str) -> None:
    """MOVE when the server has it; else COPY, \\Deleted and UID EXPUNGE of just these UIDs."""
    uids = check_uids(uids)
    check_text(target_name, "folder name")
    if not uids:
        return
    _select(client, folder_name, readonly=False)
    with translate_errors():
        for batch in _batches(uids):
            if client.has_capability("MOVE"):
                client.move(batch, target_name)
            else:
                client.copy(batch, target_name)
                client.add_flags(batch, [imapclient.DELETED], silent=True)
                _expunge(client, batch)


def delete_permanently(client: IMAPClient, folder_name: str, uids: Iterable[int]) -> None:
    """\\Deleted and UID EXPUNGE: what deleting from the Trash means."""
    uids = check_uids(uids)
    if not uids:
        return
    _select(client, folder_name, readonly=False)
    with translate_errors():
        for batch in _batches(uids):
            client.add_flags(batch, [imapclient.DELETED], silent=True)
            _expunge(client, batch)


def search(client: IMAPClient, folder_name: str, criteria: list) -> list[int]:
    """UID SEARCH with criteria such as ["FROM", "ann", "SINCE", date(...), "UNSEEN"].

    Strings are checked for line breaks; imapclient quotes ASCII ones and sends the others
    as literals, with CHARSET UTF-8.
    """
    for item in criteria:
        if isinstance(item, str):
            check_text(item, "search term")
        elif isinstance(item, bool) or not isinstance(item, (int, date)):
            raise UnsafeArgument(f"unexpected search criterion {item!r}")
    charset = None if all(item.isascii() for item in criteria if isinstance(item, str)) else "UTF-8"
    _select(client, folder_name, readonly=True)
    with translate_errors():
        return sorted(client.search(criteria or ["ALL"], charset=charset))


def create_folder(client: IMAPClient, name: str) -> None:
    check_text(name, "folder name")
    with translate_errors():
        client.create_folder(name)
        client.subscribe_folder(name)


def rename_folder(client: IMAPClient, old_name: str, new_name: str) -> None:
    check_text(old_name, "folder name")
    check_text(new_name, "folder name")
    with translate_errors():
        client.rename_folder(old_name, new_name)
        client.subscribe_folder(new_name)
    with suppress(*_IMAP_ERRORS):
        client.unsubscribe_folder(old_name)


def delete_folder(client: IMAPClient, name: str) -> None:
    check_text(name, "folder name")
    with suppress(*_IMAP_ERRORS):
        client.unsubscribe_folder(name)
    with translate_errors():
        client.delete_folder(name)


# The largest UID and MODSEQ a server may send (RFC 3501, RFC 7162).
MAX_UID = 2**32 - 1
MAX_MODSEQ = 2**63 - 1
