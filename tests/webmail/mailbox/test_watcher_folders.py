"""The mail watcher beyond the INBOX (NOTIFY, RFC 5465) and without selecting again: changes in
the folder it holds selected are synced with one UID FETCH (CHANGEDSINCE, VANISHED); changes in
every other folder come as STATUS and are synced over the same connection."""

from __future__ import annotations

import time

import pytest

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.test_watcher import (
    FAST,
    active_account,
    cached_subjects,
    connected,
    eventually,
    running,
)
from webmail.mailbox import sync
from webmail.mailbox.models import Folder, MessageSummary
from webmail.mailbox.watcher import Changes, Watcher
from webmail.protocol import imap_internals, resync


@pytest.fixture
def selects(monkeypatch) -> list[str]:
    """The folders the sync selects (SELECT or EXAMINE, with QRESYNC or without), in order."""
    names: list[str] = []
    real = sync._select

    def counting(client, folder):
        names.append(folder.name)
        return real(client, folder)

    monkeypatch.setattr(sync, "_select", counting)
    return names


def subjects_in(account, name: str) -> set[str]:
    return set(
        MessageSummary.objects.filter(folder__account=account, folder__name=name).values_list("subject", flat=True)
    )


def test_changes_in_the_selected_folder_are_synced_without_selecting_it_again(transactional_db, dovecot, pki, selects):
    account = active_account(dovecot, pki)
    address = account.user.email
    first = dovecot.deliver(address, make_message(1, subject="Before"))
    with running() as watcher:
        eventually(lambda: connected(watcher, account), what="the watch connecting")
        assert selects == ["INBOX"]  # the first sync, on connecting
        second = dovecot.deliver(address, make_message(2, subject="New"))
        eventually(lambda: cached_subjects(account) == {"Before", "New"}, what="the new message")
        inbox = Folder.objects.get(account=account, name="INBOX")
        other = dovecot.login(address)
        try:
            other.select_folder("INBOX")
            other.add_flags([first], [b"\\Flagged"])
            eventually(lambda: MessageSummary.objects.get(folder=inbox, uid=first).flagged, what="the flag")
            other.delete_messages([second])
            other.expunge()
        finally:
            other.logout()
        eventually(lambda: cached_subjects(account) == {"Before"}, what="the expunge")

        def counts() -> tuple:
            inbox.refresh_from_db()
            return inbox.total, inbox.unread, inbox.uidnext

        eventually(lambda: counts() == (1, 1, second + 1), what="the counts")
        assert watcher.watches[account.pk].syncs >= 3
    assert selects == ["INBOX"]  # three changes, not one more SELECT


def test_mail_in_another_folder_and_a_new_folder_reach_the_cache(transactional_db, dovecot, pki, selects):
    account = active_account(dovecot, pki)
    address = account.user.email
    other = dovecot.login(address)
    try:
        other.create_folder("Lists")
        with running() as watcher:
            eventually(lambda: connected(watcher, account), what="the watch connecting")
            assert watcher.watches[account.pk].notify  # Dovecot offers NOTIFY
            dovecot.deliver(address, make_message(1, subject="To a list"), folder="Lists")
            eventually(lambda: subjects_in(account, "Lists") == {"To a list"}, what="mail in Lists")

            # Another client makes a folder and files mail in it. (Dovecot announces the new
            # folder itself only at times; the STATUS for a folder not yet known is enough.)
            other.create_folder("Projects")
            dovecot.deliver(address, make_message(2, subject="Filed"), folder="Projects")
            eventually(lambda: subjects_in(account, "Projects") == {"Filed"}, what="mail in Projects")

            # The INBOX is no longer the one selected: its news now comes as STATUS, and is synced.
            dovecot.deliver(address, make_message(3, subject="Inbox again"))
            eventually(lambda: subjects_in(account, "INBOX") == {"Inbox again"}, what="mail in the INBOX")
            lists = Folder.objects.get(account=account, name="Lists")
            assert (lists.total, lists.unread) == (1, 1)
    finally:
        other.logout()
    assert selects[0] == "INBOX" and {"Lists", "Projects"} <= set(selects)


def test_what_the_server_said_during_a_command_is_not_lost_before_idle(transactional_db, dovecot, pki):
    """A message that arrives while a sync's commands run is announced in their answers, where
    imaplib keeps it and IDLE never looks: the watch reads it there first."""
    account = active_account(dovecot, pki)
    address = account.user.email
    dovecot.deliver(address, make_message(1, subject="One"))
    client = dovecot.login(address)
    try:
        client.enable("QRESYNC")
        imap_internals.notify_set(
            client, "(selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))"
        )
        client.select_folder("INBOX", readonly=True)
        client.create_folder("Elsewhere")
        dovecot.deliver(address, make_message(2, subject="Two"))
        dovecot.deliver(address, make_message(3, subject="Three"), folder="Elsewhere")
        inbox = Folder(account=account, name="INBOX", total=1)
        changes = Changes()

        def told() -> bool:
            resync.fetch_uid_range(client, 1, 1, [b"UID"])  # any command: its answer carries the news
            changes.add_unasked(imap_internals.take_untagged(client, ("EXISTS", "STATUS", "FETCH")), inbox)
            time.sleep(0.1)
            return changes.selected and changes.others == {"Elsewhere"}

        eventually(told, what="both changes told in a command's answer")  # other folders' within a second
        quiet = Changes()
        quiet.add_unasked(imap_internals.take_untagged(client, ("EXISTS", "STATUS")), inbox)
        assert not quiet  # taken once
        inbox.total = 2
        settled = Changes()
        settled.add_unasked({"EXISTS": [b"2"]}, inbox)
        assert not settled  # the count the last sync left: SELECT's own EXISTS, not news
    finally:
        client.logout()


def test_each_time_idle_is_issued_again_the_folder_is_synced_the_full_way(transactional_db, dovecot, pki, selects):
    account = active_account(dovecot, pki)
    with running(idle_renew=0.3) as watcher:
        eventually(lambda: connected(watcher, account), what="the watch connecting")
        eventually(lambda: len(selects) >= 3, what="two more full syncs")
    assert set(selects) == {"INBOX"}


def test_what_arrives_while_no_watcher_runs_is_there_once_one_runs_again(transactional_db, dovecot, pki):
    account = active_account(dovecot, pki)
    address = account.user.email
    dead = Watcher(**FAST)
    dead.step()
    eventually(lambda: connected(dead, account), what="the first watcher connecting")
    dead.shutdown(release=False)  # killed: its lease is left to lapse
    dovecot.deliver(address, make_message(1, subject="While none ran"))
    with running() as watcher:
        eventually(lambda: connected(watcher, account), what="the next watcher connecting")
        eventually(lambda: cached_subjects(account) >= {"While none ran"}, what="the INBOX caught up")
        dovecot.deliver(address, make_message(3, subject="Then"))
        eventually(lambda: "Then" in cached_subjects(account), what="the next message")
