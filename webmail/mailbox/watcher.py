"""The mail watcher: one IMAP connection in IDLE (RFC 2177) on the INBOX of each watched account.

An account is watched while its user is active (``store.active_account_ids``) or has a page open
(its live stream connected lately: ``leases.open_page_account_ids``); the accounts are
shared out between watcher processes by leases (``leases``). Each watched account has a thread
(imapclient is blocking) that logs in, syncs the INBOX, then waits in IDLE; when the server
reports EXISTS, EXPUNGE, FETCH or VANISHED it runs the folder's incremental sync over the same
connection (``sync.sync_folder``, which re-selects the folder with QRESYNC and so learns exactly
what changed), and the sync tells the pages. IDLE is ended and begun again every few seconds
(so that a stop or a lost lease is noticed) and never lasts near the 29 minutes after which a
server may drop it; each time it is re-issued the folder is synced the full way (a SELECT with
QRESYNC), which also finds anything a report left out.

A change in the folder the connection holds selected is synced without selecting it again
(``sync.sync_selected``: one UID FETCH with CHANGEDSINCE and VANISHED). Where the server offers
NOTIFY (RFC 5465; Dovecot does), the connection also asks to hear of new, expunged and re-flagged
mail in every other personal folder: the server then sends a STATUS for that folder, and the
watch syncs it over the same connection (which selects it; later changes to the INBOX then come
as STATUS too). Without NOTIFY only the INBOX is watched. What the server said while a sync's
commands ran (imaplib keeps it, IDLE would never see it) is looked at before IDLE begins.

A dropped connection is made again after an exponential backoff with jitter; a refused password
stops the watch (the INBOX shows the error) until the password changes; a server that refuses
more connections keeps every watcher off the account for minutes and lowers this process's
number of accounts. Nothing is lost when a watcher stops: the next sync catches up.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from imapclient import IMAPClient, imap_utf7
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_response

from accounts.models import MailAccount
from webmail.mailbox import leases, store, sync
from webmail.mailbox.models import Folder, SpecialUse
from webmail.protocol import imap, imap_internals
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 20.0  # how long one wait in IDLE lasts before a stop or lease is looked at
IDLE_RENEW_SECONDS = 600.0  # IDLE is re-issued this often, well before RFC 2177's 29 minutes
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 300.0
TOO_MANY_PAUSE = timedelta(minutes=5)  # no watcher tries an account that hit a connection limit
AFTER_INTERNAL_ERROR = timedelta(minutes=1)
LIMIT_RECOVERY_SECONDS = 300.0  # a lowered account count goes up by one this often
# Older mail of a folder still being filled in is fetched a little per sync (as the beat does),
# so that a huge first backfill does not keep the connection out of IDLE for long.
BACKFILL_CHUNKS = store.BEAT_BACKFILL_CHUNKS

_CHANGES = {b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED"}
# RFC 5465: the selected folder's changes as EXISTS/EXPUNGE/FETCH, other personal folders' as
# STATUS, a folder made, renamed or deleted as LIST.
NOTIFY_EVENTS = (
    "(selected (MessageNew MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange MailboxName))"
)
_UNASKED = ("EXISTS", "EXPUNGE", "FETCH", "VANISHED", "STATUS", "LIST")
_TOO_MANY = re.compile(r"maximum number of connections|too many (simultaneous )?connections|connection limit", re.I)


def is_change(response: tuple) -> bool:
    """An untagged response in IDLE that says the folder changed: ``(3, b"EXISTS")``,
    ``(2, b"EXPUNGE")``, ``(4, b"FETCH", (...))``, ``(b"VANISHED", ...)``."""
    return any(isinstance(item, bytes) and item.upper() in _CHANGES for item in response[:2])


class Changes:
    """What the server reported: the selected folder changed, other folders (by name) did, the
    folder list did."""

    def __init__(self) -> None:
        self.selected, self.listed = False, False
        self.others: set[str] = set()

    def __bool__(self) -> bool:
        return self.selected or bool(self.others) or self.listed

    def add(self, response: tuple) -> None:
        """One untagged response as imapclient's IDLE gives it."""
        kind = response[0] if response and isinstance(response[0], bytes) else b""
        if kind.upper() == b"STATUS" and len(response) > 1 and isinstance(response[1], bytes | str):
            self.others.add(folder_name(response[1]))
        elif kind.upper() == b"LIST":
            self.listed = True
        elif is_change(response):
            self.selected = True

    def add_unasked(self, untagged: dict[str, list], selected: Folder) -> None:
        """What imaplib kept from earlier commands (``imap_internals.take_untagged``). An EXISTS
        is news only when it is not the count the last sync left (SELECT says EXISTS too)."""
        for line in untagged.get("STATUS", []):
            try:
                name = parse_response([line])[0] if isinstance(line, bytes) else None
            except (IMAPClientError, ValueError, IndexError):  # a line we cannot read: the list again
                name = None
            if isinstance(name, bytes | str):
                self.others.add(folder_name(name))
            else:
                self.listed = True
        self.listed |= bool(untagged.get("LIST"))
        counts = [int(value) for value in untagged.get("EXISTS", []) if isinstance(value, bytes) and value.isdigit()]
        if counts and counts[-1] != selected.total and not selected.backfill_below:
            self.selected = True
        self.selected |= any(untagged.get(kind) for kind in ("EXPUNGE", "FETCH", "VANISHED"))


def folder_name(name: bytes | str) -> str:
    return imap_utf7.decode(name) if isinstance(name, bytes) else name


def is_bye(response: tuple) -> bool:
    return bool(response) and isinstance(response[0], bytes) and response[0].upper() == b"BYE"


def is_refused_login(exc: MailServerError) -> bool:
    return str(exc).startswith("authentication failed")


def is_too_many(exc: BaseException) -> bool:
    return bool(_TOO_MANY.search(str(exc)))


class Backoff:
    """Delays before reconnecting: doubling from ``first`` up to ``cap``, each a random part
    of the full delay (from half to all of it), so that many watches do not come back at once."""

    def __init__(self, first: float = BACKOFF_FIRST, cap: float = BACKOFF_CAP) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.failures)
        self.failures += 1
        return random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self.failures = 0


def watched_account_ids() -> set:
    """The accounts to watch: their user was active lately, or has a page open now."""
    return {*store.active_account_ids(), *leases.open_page_account_ids()}


class Watcher:
    """One watcher process's lease loop and its threads, one per watched account."""

    def __init__(
        self,
        *,
        max_accounts: int | None = None,
        lease: timedelta = leases.LEASE,
        renew_seconds: float = leases.RENEW_SECONDS,
        idle_check: float = IDLE_CHECK_SECONDS,
        idle_renew: float = IDLE_RENEW_SECONDS,
        wanted: Callable[[], Iterable] | None = None,
    ) -> None:
        self.owner = leases.new_owner()
        self.max_accounts = max_accounts or settings.WEBMAIL_WATCHER_MAX_ACCOUNTS
        self.limit = self.max_accounts
        self.lease, self.renew_seconds = lease, renew_seconds
        self.idle_check, self.idle_renew = idle_check, idle_renew
        self.wanted = wanted or watched_account_ids
        self.stopping = threading.Event()
        self.watches: dict = {}  # account id -> AccountWatch
        self._lock = threading.Lock()
        self._lowered_at = 0.0

    def run(self) -> None:
        """The lease loop, until ``stop()``; then every watch ends and its lease is given back."""
        try:
            while not self.stopping.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("watcher %s: lease round failed; trying again", self.owner)
                self.stopping.wait(self.renew_seconds)
        finally:
            self.shutdown(release=True)
            connection.close()

    def stop(self) -> None:
        self.stopping.set()

    def step(self) -> None:
        close_old_connections()
        for account_id, watch in list(self.watches.items()):
            if not watch.is_alive():
                del self.watches[account_id]
        held = leases.cycle(self.owner, self.wanted(), self.capacity(), self.lease)
        for account_id in set(self.watches) - held:
            self.watches.pop(account_id).stop()  # given back, or taken by another watcher
        for account_id in held - set(self.watches):
            watch = AccountWatch(self, account_id)
            self.watches[account_id] = watch
            watch.start()

    def capacity(self) -> int:
        with self._lock:
            if self.limit < self.max_accounts and time.monotonic() - self._lowered_at > LIMIT_RECOVERY_SECONDS:
                self.limit += 1
                self._lowered_at = time.monotonic()
            return self.limit

    def fewer(self) -> None:
        """A server refused more connections: watch one account fewer than now, for a while."""
        with self._lock:
            self.limit = max(1, min(self.limit, len(self.watches)) - 1)
            self._lowered_at = time.monotonic()
        log.warning("watcher %s: a server refused more connections; watching at most %d", self.owner, self.limit)

    def shutdown(self, *, release: bool) -> None:
        """End every watch (IDLE done, logged out). Without ``release`` the leases are left to
        lapse, as when a watcher dies."""
        watches = list(self.watches.items())
        self.watches.clear()
        for _account_id, watch in watches:
            watch.stop()
        for _account_id, watch in watches:
            watch.join(self.idle_check + 2 * settings.WEBMAIL_CONNECT_TIMEOUT)
        if release:
            leases.release(self.owner, [account_id for account_id, _watch in watches])
            leases.gone(self.owner)


class AccountWatch(threading.Thread):
    """One account's connection: log in, sync the INBOX, IDLE, sync on a change; again after a drop."""

    def __init__(self, watcher: Watcher, account_id) -> None:
        super().__init__(name=f"watch-{account_id}", daemon=True)
        self.watcher, self.account_id = watcher, account_id
        self.stopping = threading.Event()
        self.client: IMAPClient | None = None  # while connected
        self.syncs = 0  # syncs run on a change the server reported (for tests and logs)
        self.selected: Folder  # while connected: the folder the connection holds selected (read-only)
        self.notify = False  # the server sends news of the other folders

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:
            log.exception("watch of account %s ended by an error", self.account_id)
            # Left alone for a minute, so that a fault that comes back is not a login every round.
            leases.release(
                self.watcher.owner,
                [self.account_id],
                last_error="internal error (see the log)",
                not_before=timezone.now() + AFTER_INTERNAL_ERROR,
            )
        finally:
            self.client = None
            connection.close()

    def _loop(self) -> None:
        backoff = Backoff()
        while not self.stopping.is_set():
            close_old_connections()
            account = MailAccount.objects.filter(pk=self.account_id).first()
            if account is None:
                return
            try:
                with imap.session(account) as client:
                    self.client = client
                    self._watch(client, account, backoff)
                return  # stopped
            except MailServerError as exc:
                if self.stopping.is_set():
                    return
                if is_too_many(exc):  # before the next: Dovecot says it as a refused login
                    self._too_many(exc)
                    return
                if is_refused_login(exc):
                    self._refused(account, exc)
                    return
                log.info("watch of account %s: %s; connecting again", self.account_id, exc)
                leases.record(self.watcher.owner, self.account_id, last_error=str(exc)[:500], connected_at=None)
            finally:
                self.client = None
            if self.stopping.wait(backoff.next()):
                return

    def _watch(self, client: IMAPClient, account: MailAccount, backoff: Backoff) -> None:
        self.selected = self._inbox(client, account)
        sync.sync_folder(client, self.selected, backfill_chunks=BACKFILL_CHUNKS)
        self.notify = self._notify(client)
        leases.record(self.watcher.owner, self.account_id, connected_at=timezone.now(), last_error="")
        backoff.reset()
        while not self.stopping.is_set():
            changes = Changes()
            changes.add_unasked(imap_internals.take_untagged(client, _UNASKED), self.selected)
            if not changes and not self._idle(client, changes):
                if self.stopping.is_set():
                    break
                changes.selected = True  # IDLE re-issued: the full way, which finds what a report left out
                self._sync(client, account, changes, full=True)
                continue
            self._sync(client, account, changes)

    def _notify(self, client: IMAPClient) -> bool:
        """Ask for news of every personal folder (NOTIFY), where the server offers it."""
        if b"NOTIFY" not in client.capabilities():
            return False
        try:
            imap_internals.notify_set(client, NOTIFY_EVENTS)
        except IMAPClientError as exc:
            log.info("watch of account %s: NOTIFY refused (%s); watching the INBOX only", self.account_id, exc)
            return False
        return True

    def _sync(self, client: IMAPClient, account: MailAccount, changes: Changes, *, full: bool = False) -> None:
        """Sync what changed over this connection: other folders first (each is selected in
        turn), then the one held selected, without a new SELECT when it still is."""
        close_old_connections()
        if changes.listed or any(not self._known(account, name) for name in changes.others):
            sync.sync_folder_list(client, account)
        for folder in Folder.objects.filter(account=account, name__in=changes.others, selectable=True):
            if folder.pk != self.selected.pk:
                sync.sync_folder(client, folder, backfill_chunks=BACKFILL_CHUNKS)
                self.selected, changes.selected = folder, False  # it is up to date, and now selected
            else:
                changes.selected = True
        if changes.selected:
            self.selected.refresh_from_db()  # a page or the worker may have synced it meanwhile
            sync_one = sync.sync_folder if full else sync.sync_selected
            sync_one(client, self.selected, backfill_chunks=BACKFILL_CHUNKS)
        self.syncs += 1

    @staticmethod
    def _known(account: MailAccount, name: str) -> bool:
        return Folder.objects.filter(account=account, name=name).exists()

    def _inbox(self, client: IMAPClient, account: MailAccount) -> Folder:
        inbox = Folder.objects.filter(account=account, special_use=SpecialUse.INBOX).first()
        if inbox is None:
            folders = sync.sync_folder_list(client, account)
            inbox = next((folder for folder in folders if folder.special_use == SpecialUse.INBOX), None)
        if inbox is None:
            raise MailServerError("the server lists no INBOX")
        return inbox

    def _idle(self, client: IMAPClient, changes: Changes) -> bool:
        """One IDLE, until the server reports a change (added to ``changes``), a stop is asked
        for or it is time to re-issue it. Returns whether anything changed."""
        client.idle()
        started = time.monotonic()
        while not self.stopping.is_set() and time.monotonic() - started < self.watcher.idle_renew:
            responses = client.idle_check(timeout=self.watcher.idle_check)
            if any(is_bye(response) for response in responses):
                raise MailServerError(f"the server closed the connection ({responses[-1]!r:.200})")
            for response in responses:
                changes.add(response)
            if changes:
                break
        _text, responses = client.idle_done()
        for response in responses:
            changes.add(response)
        return bool(changes)

    def _refused(self, account: MailAccount, exc: MailServerError) -> None:
        log.info("watch of account %s stopped: %s", self.account_id, exc)
        leases.release(
            self.watcher.owner, [self.account_id], last_error=str(exc)[:500], refused_key=leases.password_key(account)
        )
        Folder.objects.filter(account=account, special_use=SpecialUse.INBOX).update(sync_error=str(exc)[:500])

    def _too_many(self, exc: MailServerError) -> None:
        pause = TOO_MANY_PAUSE * random.uniform(1.0, 1.5)  # noqa: S311 - jitter
        log.warning("watch of account %s paused for %s: %s", self.account_id, pause, exc)
        leases.release(
            self.watcher.owner, [self.account_id], last_error=str(exc)[:500], not_before=timezone.now() + pause
        )
        self.watcher.fewer()
