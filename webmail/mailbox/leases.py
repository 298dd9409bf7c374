"""The mail watcher's leases: which watcher process holds which account's IMAP connection.

Each account to watch has a ``Watch`` row. A watcher takes free or expired rows with one
conditional UPDATE (the database decides, so two watchers never take the same row), renews
its own while it watches, and gives back those no longer wanted. A watcher that dies stops
renewing; once its leases lapse another one takes the accounts over.

The accounts are shared out evenly: each running watcher says so (``WatcherProcess``) at every
round, and none holds more than its share of the accounts to watch (rounded up), so that one
that starts beside another gets half of the accounts within a round or two, from leases the
other gives back.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import MailAccount
from webmail.mailbox.models import Watch, WatcherProcess

# A watcher renews every RENEW seconds; a lease lasts LEASE, so that a dead watcher's accounts
# are taken over within a minute and a slow renewal does not lose them.
LEASE = timedelta(seconds=45)
RENEW_SECONDS = 15.0
_BATCH = 500  # ids per IN (...): SQLite allows 999 parameters per statement


def new_owner() -> str:
    """host:pid:random, unique to this watcher process (a reused pid gets a new random part)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def password_key(account: MailAccount) -> str:
    """A fingerprint of the account's login as stored (the password's ciphertext, never the
    password): a refused login is not tried again until it changes."""
    stored = "\0".join([account.imap_host, str(account.imap_port), account.imap_username, account.imap_password])
    return hashlib.sha256(stored.encode()).hexdigest()


def _batches(ids: list) -> Iterable[list]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def _free(now: datetime) -> Q:
    return Q(owner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def cycle(owner: str, wanted: Iterable, capacity: int, lease: timedelta = LEASE) -> set:
    """One round of the lease loop: renew what ``owner`` holds and still wants, give back what
    it no longer wants, take free leases up to ``capacity``. Returns the account ids it holds."""
    wanted = set(wanted)
    now = timezone.now()
    until = now + lease
    capacity = min(capacity, fair_share(owner, len(wanted), now, lease))
    Watch.objects.bulk_create([Watch(account_id=pk) for pk in wanted], ignore_conflicts=True)
    mine = set(Watch.objects.filter(owner=owner).values_list("account_id", flat=True))
    release(owner, mine - wanted)
    for batch in _batches(list(mine & wanted)):
        Watch.objects.filter(owner=owner, account_id__in=batch).update(lease_until=until)
    held = set(Watch.objects.filter(owner=owner, lease_until__gt=now).values_list("account_id", flat=True))
    if len(held) > capacity:  # the capacity went down: give back the most recent ones
        release(owner, sorted(held, key=str)[capacity:])
        return set(sorted(held, key=str)[:capacity])
    room = capacity - len(held)
    if room > 0:
        _take(owner, wanted - held, room, now, until)
    return set(Watch.objects.filter(owner=owner, lease_until__gt=now).values_list("account_id", flat=True))


def fair_share(owner: str, wanted: int, now: datetime, lease: timedelta = LEASE) -> int:
    """Say that ``owner`` runs; the number of accounts each running watcher should hold at most
    (those to watch divided among them, rounded up). One not heard from for a lease is gone."""
    WatcherProcess.objects.update_or_create(owner=owner, defaults={"seen_at": now})
    WatcherProcess.objects.filter(seen_at__lt=now - lease).delete()
    running = WatcherProcess.objects.count()
    return max(1, -(-wanted // running))


def gone(owner: str) -> None:
    """A watcher stops: the others share out its accounts from their next round."""
    WatcherProcess.objects.filter(owner=owner).delete()


def _take(owner: str, candidates: set, room: int, now: datetime, until: datetime) -> None:
    chosen: list = []
    for batch in _batches(sorted(candidates, key=str)):
        rows = (
            Watch.objects.filter(_free(now), account_id__in=batch)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .select_related("account")
        )
        for row in rows:
            if row.refused_key and row.refused_key == password_key(row.account):
                continue  # its password was refused and has not changed since
            chosen.append(row.pk)
        if len(chosen) >= room:
            break
    for batch in _batches(chosen[:room]):
        # The condition again: another watcher may have taken some of them meanwhile.
        Watch.objects.filter(_free(now), account_id__in=batch).update(owner=owner, lease_until=until, refused_key="")


def release(owner: str, account_ids: Iterable, **fields) -> int:
    """Give leases back (with ``fields`` such as ``last_error`` or ``not_before`` set too)."""
    released = 0
    for batch in _batches(list(account_ids)):
        released += Watch.objects.filter(owner=owner, account_id__in=batch).update(
            owner="", lease_until=None, connected_at=None, **fields
        )
    return released


def record(owner: str, account_id, **fields) -> bool:
    """Note the state of a watched account, if ``owner`` still holds it."""
    return bool(Watch.objects.filter(owner=owner, account_id=account_id).update(**fields))


def page_open(user_id: int, until: datetime) -> None:
    """A page of the user's is open, with its live stream, until at least ``until``."""
    account_ids = list(MailAccount.objects.filter(user_id=user_id).values_list("pk", flat=True))
    Watch.objects.bulk_create([Watch(account_id=pk) for pk in account_ids], ignore_conflicts=True)
    Watch.objects.filter(account_id__in=account_ids).update(page_open_until=until)


def open_page_account_ids() -> list:
    """Accounts whose user has a page open (its live stream connected lately)."""
    return list(Watch.objects.filter(page_open_until__gt=timezone.now()).values_list("account_id", flat=True))
