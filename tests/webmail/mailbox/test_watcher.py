"""The mail watcher against the test Dovecot: what another client does reaches the envelope cache
without anyone asking for a sync; drops, refused passwords, leases shared by two watchers."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import account_on_test_servers
from tests.servers.dovecot import DOVEADM, Dovecot
from tests.servers.fixtures import MailAccount as DovecotUser
from tests.servers.process import local_install
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import cached_folder
from tests.webmail.mailbox.test_tasks import add_session
from tests.webmail.test_serve import ROOT, manage
from webmail.mailbox.models import Folder, MessageSummary, Watch
from webmail.mailbox.watcher import Backoff, Watcher, is_change, is_too_many

# Short enough for a test to see a lapse, a renewal and a stop within a second or two.
FAST = {"lease": timedelta(seconds=2), "renew_seconds": 0.2, "idle_check": 0.2}


def eventually(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come true within {timeout} s")
        time.sleep(0.05)


@contextmanager
def running(**options) -> Iterator[Watcher]:
    """A watcher's lease loop in a thread, stopped cleanly at the end."""
    watcher = Watcher(**(FAST | options))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        yield watcher
    finally:
        watcher.stop()
        thread.join(20)
        assert not thread.is_alive()


def active_account(dovecot, pki, password: str | None = None):
    """A fresh Dovecot user, their MailAccount (with ``password`` instead of the right one, if
    given) and a session that makes them active."""
    user = DovecotUser(f"watch-{uuid.uuid4().hex[:12]}@example.test", "imap-secret")
    dovecot.add_user(user.address, user.password)
    account = account_on_test_servers(DovecotUser(user.address, password or user.password), dovecot, pki)
    add_session(account.user, timedelta(minutes=1))
    return account


def cached_subjects(account) -> set[str]:
    return set(MessageSummary.objects.filter(folder__account=account).values_list("subject", flat=True))


def connected(watcher: Watcher, account) -> bool:
    watch = watcher.watches.get(account.pk)
    return watch is not None and watch.client is not None and Watch.objects.get(pk=account.pk).connected_at is not None


def test_what_another_client_does_reaches_the_cache_without_a_sync(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki)
    address = account.user.email
    first = dovecot.deliver(address, make_message(1, subject="Before"))
    with running() as watcher:
        eventually(lambda: connected(watcher, account), what="the watch connecting")
        assert cached_subjects(account) == {"Before"}  # the first sync, on connecting

        second = dovecot.deliver(address, make_message(2, subject="Arrived"))
        eventually(lambda: cached_subjects(account) == {"Before", "Arrived"}, what="the new message")
        inbox = Folder.objects.get(account=account, name="INBOX")

        def counts() -> tuple[int, int]:  # saved by the sync's last step, just after the rows
            inbox.refresh_from_db()
            return inbox.total, inbox.unread

        eventually(lambda: counts() == (2, 2), what="the counts")
        assert counts() == (2, 2)

        other = dovecot.login(address)
        try:
            other.select_folder("INBOX")
            other.add_flags([first], [b"\\Seen", b"\\Flagged"])
            eventually(lambda: MessageSummary.objects.get(folder=inbox, uid=first).flagged, what="the flag")
            assert MessageSummary.objects.get(folder=inbox, uid=first).seen
            other.delete_messages([second])
            other.expunge()
        finally:
            other.logout()
        eventually(lambda: cached_subjects(account) == {"Before"}, what="the expunge")
        eventually(lambda: counts() == (1, 0), what="the counts after it")
        assert counts() == (1, 0)
        assert watcher.watches[account.pk].syncs >= 3
    watch = Watch.objects.get(pk=account.pk)
    assert (watch.owner, watch.lease_until) == ("", None)  # a clean stop gives the lease back


def test_a_connection_the_server_drops_is_made_again_and_nothing_is_missed(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki)
    address = account.user.email
    with running() as watcher:
        eventually(lambda: connected(watcher, account), what="the watch connecting")
        watch = watcher.watches[account.pk]
        dropped = watch.client
        kicked = subprocess.run(
            [str(DOVEADM), "-c", str(dovecot.config_path), "kick", address],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert kicked.returncode == 0, kicked.stderr
        dovecot.deliver(address, make_message(3, subject="While away"))
        eventually(lambda: "While away" in cached_subjects(account), what="the message sent while away")
        eventually(lambda: watch.client not in (None, dropped), what="a new connection")
        assert watcher.watches == {account.pk: watch}  # the same watch connected again
        assert watch.is_alive()


def test_two_watchers_share_twenty_accounts_evenly_and_take_over_a_dead_ones(transactional_db, dovecot, pki):
    accounts = [active_account(dovecot, pki) for _ in range(20)]
    ids = {account.pk for account in accounts}
    dying = Watcher(max_accounts=50, **FAST)
    dying.step()  # one round of its lease loop, alone: it takes all twenty
    assert set(dying.watches) == ids
    with running(max_accounts=50) as survivor:

        def balanced() -> bool:
            dying.step()  # it keeps renewing, and gives back what is over its share
            time.sleep(0.1)
            return len(dying.watches) == len(survivor.watches) == 10

        eventually(balanced, timeout=20, what="the accounts shared out ten and ten")
        assert set(survivor.watches) | set(dying.watches) == ids
        owners = dict(Watch.objects.values_list("account_id", "owner"))
        assert {owners[pk] for pk in dying.watches} == {dying.owner}
        assert {owners[pk] for pk in survivor.watches} == {survivor.owner}
        for _ in range(3):  # renewing: nothing moves while both live
            time.sleep(0.3)
            dying.step()
            assert set(survivor.watches).isdisjoint(dying.watches)
            assert len(dying.watches) == 10

        orphans = set(dying.watches)
        dying.shutdown(release=False)  # it dies: its threads end, its leases stay until they lapse
        assert set(Watch.objects.filter(pk__in=orphans).values_list("owner", flat=True)) == {dying.owner}
        eventually(lambda: set(survivor.watches) == ids, what="the dead watcher's accounts taken over")
        eventually(lambda: all(connected(survivor, account) for account in accounts), what="all connected")
    assert not Watch.objects.exclude(owner="").exists()


def test_an_account_no_longer_active_is_given_back(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki)
    wanted = {account.pk}
    with running(wanted=lambda: set(wanted)) as watcher:
        eventually(lambda: connected(watcher, account), what="the watch connecting")
        thread = watcher.watches[account.pk]
        wanted.clear()
        eventually(lambda: not watcher.watches and not thread.is_alive(), what="the watch ending")
        assert Watch.objects.get(pk=account.pk).owner == ""


def test_a_watcher_whose_lease_was_taken_while_it_stalled_lets_the_account_go(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki)
    stalled = Watcher(**FAST)
    stalled.step()
    watch = stalled.watches[account.pk]
    eventually(lambda: connected(stalled, account), what="the watch connecting")
    # Its lease lapsed (it stalled past it) and another watcher took the account.
    Watch.objects.filter(pk=account.pk).update(owner="elsewhere:1:0", lease_until=timezone.now() + timedelta(minutes=1))
    stalled.step()
    assert not stalled.watches
    eventually(lambda: not watch.is_alive(), what="its watch ending")
    assert Watch.objects.get(pk=account.pk).owner == "elsewhere:1:0"  # the new holder keeps it
    stalled.shutdown(release=True)
    assert Watch.objects.get(pk=account.pk).owner == "elsewhere:1:0"


def test_a_refused_password_stops_the_watch_until_it_is_changed(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki, password="not-the-password")
    inbox = cached_folder(account)
    with running() as watcher:
        eventually(lambda: Watch.objects.filter(pk=account.pk, refused_key__gt="").exists(), what="the refusal")
        watch = Watch.objects.get(pk=account.pk)
        assert watch.last_error.startswith("authentication failed")
        assert watch.owner == ""
        inbox.refresh_from_db()
        assert inbox.sync_error.startswith("authentication failed")  # the page's banner
        time.sleep(1)  # several lease rounds: not taken again, no more logins
        assert Watch.objects.get(pk=account.pk).owner == ""
        assert account.pk not in watcher.watches

        account.set_secret("imap_password", "imap-secret")
        account.save()
        eventually(lambda: connected(watcher, account), what="the watch with the new password")
        inbox.refresh_from_db()
        assert inbox.sync_error == ""
        assert Watch.objects.get(pk=account.pk).last_error == ""


def test_a_server_that_refuses_more_connections_is_left_alone_for_minutes(transactional_db, pki):
    workdir = Path(tempfile.mkdtemp(prefix="webmail-dovecot-"))  # like the shared one: reachable
    workdir.chmod(0o755)
    # One connection per user and address, and the test holds it.
    strict = Dovecot(workdir, pki, settings={"protocol imap {\n  mail_max_userip_connections": "1\n}"})
    strict.start()
    try:
        account = active_account(strict, pki)
        held = strict.login(account.user.email)
        try:
            watcher = Watcher(max_accounts=5, **FAST)
            watcher.step()
            eventually(lambda: Watch.objects.filter(pk=account.pk, not_before__isnull=False).exists(), what="a pause")
            row = Watch.objects.get(pk=account.pk)
            assert row.owner == "" and "Maximum number of connections" in row.last_error
            assert row.not_before > timezone.now() + timedelta(minutes=4)
            assert row.refused_key == ""  # not taken for a wrong password
            assert watcher.limit == 1  # fewer accounts for this process
            for _ in range(5):  # neither it nor another watcher tries again meanwhile
                watcher.step()
                time.sleep(0.2)
            other = Watcher(**FAST)
            other.step()
            assert not watcher.watches and not other.watches
            assert strict.log_text().count("Maximum number of connections") == 1
        finally:
            held.logout()
    finally:
        strict.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize(
    ("response", "change"),
    [
        ((3, b"EXISTS"), True),
        ((2, b"EXPUNGE"), True),
        ((4, b"FETCH", (b"FLAGS", ())), True),
        ((b"VANISHED", [5]), True),
        ((1, b"RECENT"), False),
        ((b"OK", b"Still here"), False),
    ],
)
def test_which_idle_responses_mean_a_change(response, change):
    assert is_change(response) is change


def test_backoff_doubles_with_jitter_up_to_its_cap():
    backoff = Backoff(first=1.0, cap=8.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, full in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert full / 2 <= delay <= full
    backoff.reset()
    assert backoff.next() <= 1.0
    assert is_too_many("Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)")
    assert not is_too_many("authentication failed")


def test_the_command_starts_says_so_and_stops_cleanly_on_sigterm(tmp_path):
    environment = local_install(tmp_path)
    migrated = manage(environment, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    refused = manage(environment, "watch_mail", "--max-accounts", "0")
    assert refused.returncode != 0 and "--max-accounts must be at least 1" in refused.stderr

    command = [sys.executable, "manage.py", "watch_mail", "--max-accounts", "7"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert re.match(r"Mail watcher \S+:\d+:[0-9a-f]{8} started \(at most 7 accounts\)", process.stdout.readline())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
