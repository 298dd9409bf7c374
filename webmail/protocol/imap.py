"""Everything that speaks IMAP."""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import imapclient
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SENT
from imapclient.response_parser import parse_fetch_response

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


def check_uids(uids: Iterable[int]) -> list[int]:
    checked = []
    for uid in uids:
        if type(uid) is not int or uid <= 0:
            raise UnsafeArgument(f"a UID must be a positive int, not {uid!r}")
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
    try:
        return client.select_folder(folder_name, readonly=readonly)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


def _batches(uids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(uids), _BATCH):
        yield uids[start : start + _BATCH]


def fetch_raw(client: IMAPClient, folder_name: str, uid: int) -> bytes | None:
    """The whole message, or None when it is not (or no longer) there. Sets no flag."""
    (uid,) = check_uids([uid])
    _select(client, folder_name, readonly=True)
    try:
        data = client.fetch([uid], [b"BODY.PEEK[]"]).get(uid)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc
    return data.get(b"BODY[]") if data else None


def set_flags(
    client: IMAPClient, folder_name: str, uids: Iterable[int], flags: Iterable[str], add: bool = True
) -> None:
    uids, flags = check_uids(uids), _check_flags(flags)
    if not uids:
        return
    _select(client, folder_name, readonly=False)
    try:
        for batch in _batches(uids):
            if add:
                client.add_flags(batch, flags, silent=True)
            else:
                client.remove_flags(batch, flags, silent=True)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


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
    try:
        for batch in _batches(uids):
            if client.has_capability("MOVE"):
                client.move(batch, target_name)
            else:
                client.copy(batch, target_name)
                client.add_flags(batch, [imapclient.DELETED], silent=True)
                _expunge(client, batch)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


def delete_permanently(client: IMAPClient, folder_name: str, uids: Iterable[int]) -> None:
    """\\Deleted and UID EXPUNGE: what deleting from the Trash means."""
    uids = check_uids(uids)
    if not uids:
        return
    _select(client, folder_name, readonly=False)
    try:
        for batch in _batches(uids):
            client.add_flags(batch, [imapclient.DELETED], silent=True)
            _expunge(client, batch)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


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
    try:
        return sorted(client.search(criteria or ["ALL"], charset=charset))
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


def create_folder(client: IMAPClient, name: str) -> None:
    check_text(name, "folder name")
    try:
        client.create_folder(name)
        client.subscribe_folder(name)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


def rename_folder(client: IMAPClient, old_name: str, new_name: str) -> None:
    check_text(old_name, "folder name")
    check_text(new_name, "folder name")
    try:
        client.rename_folder(old_name, new_name)
        client.subscribe_folder(new_name)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc
    with suppress(*_IMAP_ERRORS):
        client.unsubscribe_folder(old_name)


def delete_folder(client: IMAPClient, name: str) -> None:
    check_text(name, "folder name")
    with suppress(*_IMAP_ERRORS):
        client.unsubscribe_folder(name)
    try:
        client.delete_folder(name)
    except _IMAP_ERRORS as exc:
        raise _failure(exc) from exc


# -- what changed in a folder since the last sync (CONDSTORE, QRESYNC: RFC 7162) -------------
#
# imapclient has no words for SELECT's QRESYNC parameter, VANISHED, or a UID FETCH of a range,
# so these go one level down, to imaplib, through webmail.protocol.imap_internals. What the server answers
# is parsed strictly: a UID is an int from 1 to 2**32-1, a UID set is digits, colons and commas.
# A report that is not quite right is not used at all (None), and the caller asks the slow,
# plain way instead.

MAX_UID = 2**32 - 1
MAX_MODSEQ = 2**63 - 1
_UID_SET = re.compile(rb"[0-9]{1,10}(?::[0-9]{1,10})?(?:,[0-9]{1,10}(?::[0-9]{1,10})?)*")
_VANISHED = re.compile(rb"(?:\(EARLIER\) )?([0-9:,]+)", re.IGNORECASE)


@dataclass
class Resync:
    """What a SELECT with QRESYNC told: the usual status (as ``select_folder`` returns it), the
    UIDs expunged since the MODSEQ given as merged (low, high) ranges, and the flags changed
    since then by UID ({b"FLAGS": (...), b"MODSEQ": (n,)}); None where the report was unusable."""

    status: dict
    vanished: list[tuple[int, int]] | None
    changed: dict[int, dict] | None


def _positive(value: object, limit: int) -> bool:
    return type(value) is int and 1 <= value <= limit


def parse_uid_set(text: bytes) -> list[tuple[int, int]] | None:
    """``b"3,7:9,12"`` as [(3, 3), (7, 9), (12, 12)], merged and sorted; None unless it is a
    well-formed set of UIDs (no ``*``: a server reporting expunged UIDs knows which)."""
    if not _UID_SET.fullmatch(text):
        return None
    ranges = []
    for part in text.split(b","):
        low_text, _colon, high_text = part.partition(b":")
        low, high = int(low_text), int(high_text or low_text)
        low, high = min(low, high), max(low, high)
        if low < 1 or high > MAX_UID:
            return None
        ranges.append((low, high))
    return merge_ranges(ranges)


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


def _vanished_ranges(responses: list) -> list[tuple[int, int]] | None:
    ranges: list[tuple[int, int]] = []
    for response in responses:
        match = _VANISHED.fullmatch(response) if isinstance(response, bytes) else None
        uids = parse_uid_set(match.group(1)) if match else None
        if uids is None:
            log.warning("ignoring a VANISHED response that is not a UID set: %.200r", response)
            return None
        ranges.extend(uids)
    return merge_ranges(ranges)


def _flag_changes(responses: list) -> dict[int, dict] | None:
    if not responses:
        return {}
    try:
        parsed = parse_fetch(list(responses), False) or parse_fetch_response(list(responses), False, uid_is_key=False)
    except (IMAPClientError, ValueError, TypeError, IndexError):
        log.warning("ignoring FETCH responses to a QRESYNC SELECT that do not parse", exc_info=True)
        return None
    changes: dict[int, dict] = {}
    for data in parsed.values():
        uid, flags, modseq = data.get(b"UID"), data.get(b"FLAGS"), data.get(b"MODSEQ")
        if not isinstance(uid, int) or not _positive(uid, MAX_UID) or not isinstance(flags, tuple):
            log.warning("ignoring FETCH responses to a QRESYNC SELECT without UID and FLAGS")
            return None
        changes[uid] = {b"FLAGS": tuple(flag for flag in flags if isinstance(flag, bytes)), b"MODSEQ": modseq}
    return changes


def select_resync(
    client: IMAPClient, folder_name: str, uidvalidity: int, modseq: int, known: tuple[int, int] | None = None
) -> Resync:
    """EXAMINE ``folder_name`` (QRESYNC (uidvalidity modseq [low:high])): one command for the
    status, the UIDs expunged since ``modseq`` (VANISHED (EARLIER)) and the flags changed since
    (untagged FETCH). The session must have ENABLEd QRESYNC. ``known`` bounds the UIDs the server
    reports on. When ``uidvalidity`` is no longer the folder's, the server reports nothing: the
    caller compares the status's UIDVALIDITY before trusting an empty report."""
    check_text(folder_name, "folder name")
    if not _positive(uidvalidity, MAX_UID) or not _positive(modseq, MAX_MODSEQ):
        raise UnsafeArgument(f"not a UIDVALIDITY and MODSEQ: {uidvalidity!r} {modseq!r}")
    parameters = f"{uidvalidity} {modseq}"
    if known is not None and _positive(known[0], MAX_UID) and _positive(known[1], MAX_UID) and known[0] <= known[1]:
        parameters += f" {known[0]}:{known[1]}"
    status, vanished, fetched = imap_internals.select_with_parameters(client, folder_name, f"(QRESYNC ({parameters}))")
    return Resync(status, _vanished_ranges(vanished), _flag_changes(fetched))


def fetch_uid_range(
    client: IMAPClient, low: int, high: int, items: list[bytes], *, changed_since: int | None = None
) -> dict[int, dict]:
    """UID FETCH low:high, optionally (CHANGEDSINCE modseq), as {uid: {item: value}}.

    A range where ``client.fetch`` would list every UID (a long command for the server to parse),
    and CHANGEDSINCE, which ``client.fetch``'s UID filter cannot take. Responses without a UID
    in the range (unsolicited ones about other messages) are dropped."""
    if not (_positive(low, MAX_UID) and _positive(high, MAX_UID) and low <= high):
        raise UnsafeArgument(f"not a UID range: {low!r}:{high!r}")
    modifiers = None
    if changed_since is not None:
        if not _positive(changed_since, MAX_MODSEQ):
            raise UnsafeArgument(f"not a MODSEQ: {changed_since!r}")
        modifiers = f"(CHANGEDSINCE {changed_since})"
    items_text = imap_internals.fetch_items(items)
    tag = imap_internals.send_command(client, "UID", "FETCH", f"{low}:{high}", items_text, modifiers)
    return _fetched(client, tag, low, high)


def fetch_sequence_range(client: IMAPClient, low: int, high: int, items: list[bytes]) -> dict[int, dict]:
    """FETCH low:high by sequence number (the newest messages of a folder whose UIDs are not
    known yet), as {uid: {item: value}}; ``items`` must include UID."""
    if not (_positive(low, MAX_UID) and _positive(high, MAX_UID) and low <= high):
        raise UnsafeArgument(f"not a sequence range: {low!r}:{high!r}")
    tag = imap_internals.send_command(client, "FETCH", f"{low}:{high}", imap_internals.fetch_items(items))
    return _fetched(client, tag, 1, MAX_UID)


def _fetched(client: IMAPClient, tag: Any, low: int, high: int) -> dict[int, dict]:
    """The answer to a FETCH command sent as ``tag``, read quickly (imapclient's reader when
    unsure), keyed by UID; responses without a UID in low..high (unsolicited ones) dropped."""
    data = imap_internals.fetch_answer(client, tag)
    parsed = parse_fetch(data, client.normalise_times)
    if parsed is None:  # something the quick reading does not know: imapclient's, which raises on nonsense
        parsed = parse_fetch_response(data, client.normalise_times, uid_is_key=False)
    fetched = {}
    for message in parsed.values():
        uid = message.get(b"UID")
        if type(uid) is int and low <= uid <= high:
            fetched[uid] = message
    return fetched


# -- FETCH responses, read quickly --------------------------------------------------------------
#
# imapclient reads a response character by character in Python: for a folder's envelopes that is
# most of a full sync's CPU time (0.4 ms a message). This reads the same responses with one
# regular expression per token and gives what imapclient's parse_fetch_response(uid_is_key=False)
# gives: {seq: {b"SEQ": seq, b"UID": ..., b"FLAGS": (...), b"ENVELOPE": Envelope(...), ...}}.
# Anything it is not sure of (a FETCH item it does not convert, an atom with an unclosed bracket,
# unbalanced parentheses) makes it return None, and the caller hands the response to imapclient.

_TOKEN = re.compile(
    rb"([ \t]*(?:"
    rb"(\()|(\))"  # 2, 3
    rb'|("(?:[^"\\]|\\.)*")'  # 4: a quoted string, quotes included
    rb"|([^\s()\"{}\[\]]+(?:\[[^\]]*\][^\s()\"{}\[\]]*)?)"  # 5: an atom, BODY[...] included
    rb"|\{([0-9]{1,10})\}$))"  # 6: the size of the literal that follows the line
)
_ESCAPED = re.compile(rb'\\([\\"])')
# What imapclient turns into something else than the parsed value; not in our FETCH items.
_CONVERTED_ITEMS = {b"INTERNALDATE", b"BODY", b"BODYSTRUCTURE"}


class _Unsure(Exception):
    pass


def _read_tokens(text: bytes, stack: list[list], literal: bytes | None) -> None:
    """Append the tokens of one line to the innermost open list; a line ending in {n} is
    followed by its literal (imaplib read it: the pair is a tuple in the response data)."""
    tokens = _TOKEN.findall(text)
    # Matches do not overlap: when they add up to the whole line, nothing was skipped.
    if sum(len(token[0]) for token in tokens) != len(text.rstrip(b" \t")):
        raise _Unsure
    current = stack[-1]
    for _whole, opening, closing, quoted, atom, size in tokens:
        if atom:
            if atom == b"NIL":
                current.append(None)
            elif atom.isdigit() and (atom[:1] != b"0" or len(atom) == 1):
                current.append(int(atom))
            else:
                current.append(atom)
        elif quoted:
            quoted = quoted[1:-1]
            current.append(_ESCAPED.sub(rb"\1", quoted) if b"\\" in quoted else quoted)
        elif opening:
            current = []
            stack.append(current)
        elif closing:
            if len(stack) < 2:
                raise _Unsure
            done = tuple(stack.pop())
            current = stack[-1]
            current.append(done)
        elif literal is None or int(size) != len(literal):
            raise _Unsure
        else:
            current.append(literal)
            literal = None
    if literal is not None:
        raise _Unsure


def parse_fetch(data: list, normalise_times: bool = True) -> dict[int, dict] | None:
    """FETCH response data as imaplib leaves it, read like imapclient's parse_fetch_response
    (keyed by sequence number); None when unsure."""
    if data == [None]:
        return {}
    stack: list[list] = [[]]
    try:
        for line in data:
            if isinstance(line, tuple) and len(line) == 2 and isinstance(line[0], bytes) and isinstance(line[1], bytes):
                _read_tokens(line[0], stack, line[1])
            elif isinstance(line, bytes):
                _read_tokens(line, stack, None)
            else:
                raise _Unsure
        top = stack[0]
        if len(stack) != 1 or len(top) % 2:
            raise _Unsure
        parsed: dict[int, dict] = {}
        for index in range(0, len(top), 2):
            seq, items = top[index], top[index + 1]
            if type(seq) is not int or type(items) is not tuple or len(items) % 2:
                raise _Unsure
            message = parsed.setdefault(seq, {})
            message[b"SEQ"] = seq
            for item in range(0, len(items), 2):
                name, value = items[item], items[item + 1]
                if not isinstance(name, bytes) or (name := name.upper()) in _CONVERTED_ITEMS:
                    raise _Unsure
                if name == b"ENVELOPE":
                    value = imap_internals.convert_envelope(value, normalise_times)
                elif name == b"UID" and type(value) is not int:
                    raise _Unsure
                message[name] = value
    except (_Unsure, TypeError, IndexError, ValueError):
        return None
    return parsed
