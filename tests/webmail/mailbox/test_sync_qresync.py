"""QRESYNC (RFC 7162) against a real Dovecot: what another client changed or expunged arrives with
the SELECT, and the plain ways still work where the server offers less.

Which way a sync went is read from what went over the wire (imaplib's debug log of every
command and response), not from a stand-in server.
"""

from __future__ import annotations

import logging

import pytest
from imapclient import IMAPClient

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import sync_account
from webmail.mailbox import sync
from webmail.mailbox.models import Folder, MessageSummary
from webmail.protocol import imap


@pytest.fixture
def wire(caplog):
    """The IMAP lines this test's sessions sent and received, as text."""
    caplog.set_level(logging.DEBUG, logger="imapclient")

    def lines(start: int = 0) -> list[str]:
        return [record.getMessage() for record in caplog.records[start:] if record.name.startswith("imapclient")]

    lines.mark = lambda: len(caplog.records)
    return lines


def sent(lines: list[str]) -> list[str]:
    return [line.upper() for line in lines if line.startswith(">")]


def sync_inbox(account) -> Folder:
    return sync_account(account, ["INBOX"])[0]


def uids(folder: Folder) -> list[int]:
    return sorted(folder.messages.values_list("uid", flat=True))


def other_client(dovecot, account, folder: str = "INBOX") -> IMAPClient:
    client = dovecot.login(account.user.email)
    client.select_folder(folder)
    return client


def delete_elsewhere(dovecot, account, delete: list[int], folder: str = "INBOX", flag: tuple = ()) -> None:
    """Another client expunges ``delete`` (after setting ``flag`` = (uid, flag), if given)."""
    other = other_client(dovecot, account, folder)
    if flag:
        other.add_flags([flag[0]], [flag[1]])
    other.delete_messages(delete)
    other.expunge()
    other.logout()


def hide_capabilities(monkeypatch, *hidden: bytes) -> None:
    """A server without ``hidden`` (Dovecot cannot be told to hide them per connection)."""
    original = IMAPClient.capabilities
    monkeypatch.setattr(IMAPClient, "capabilities", lambda self: tuple(c for c in original(self) if c not in hidden))


def test_the_session_enables_qresync_when_the_server_offers_it(reader):
    with imap.logged_in(reader) as client:
        assert {b"CONDSTORE", b"QRESYNC"} <= imap.enabled(client)


def test_messages_expunged_by_another_client_vanish_without_a_search_of_all(reader, dovecot, wire):
    for n in range(1, 7):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    first, second, third, fourth, *_rest = uids(folder)
    delete_elsewhere(dovecot, reader, [second, fourth])

    start = wire.mark()
    folder = sync_inbox(reader)
    assert uids(folder) == [first, third, *_rest], "no ghosts"
    assert folder.total == 4 and folder.is_complete
    commands, received = sent(wire(start)), wire(start)
    assert any("EXAMINE" in line and "(QRESYNC (" in line for line in commands)
    assert any("VANISHED (EARLIER)" in line for line in received)
    assert not any("SEARCH" in line for line in commands), "neither UID SEARCH ALL nor any other search"


def test_flags_changed_by_another_client_arrive_with_the_select(reader, dovecot, wire):
    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n), flags=["\\Seen"] if n == 3 else [])
    folder = sync_inbox(reader)
    first, second, third = uids(folder)
    other = other_client(dovecot, reader)
    other.add_flags([first], [b"\\Seen", b"\\Flagged"])
    other.remove_flags([third], [b"\\Seen"])
    other.logout()
    dovecot.deliver(reader.user.email, make_message(4))

    start = wire.mark()
    folder = sync_inbox(reader)
    rows = {row.uid: row for row in folder.messages.all()}
    assert rows[first].seen and rows[first].flagged
    assert not rows[second].seen and not rows[third].seen
    assert folder.messages.filter(subject="Message 4").count() == 1, "no duplicates"
    assert (folder.total, folder.unread) == (4, 3)
    commands = sent(wire(start))
    assert not any("CHANGEDSINCE" in line or "SEARCH" in line for line in commands)
    assert any(f"UID FETCH {third + 1}:{third + 1} " in line for line in commands), "only the new message fetched"


def test_nothing_changed_costs_one_select(reader, dovecot, wire):
    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n))
    sync_inbox(reader)
    start = wire.mark()
    folder = sync_inbox(reader)
    assert folder.total == 3
    commands = [line for line in sent(wire(start)) if "EXAMINE" in line or "FETCH" in line or "SEARCH" in line]
    assert len(commands) == 1 and "QRESYNC" in commands[0]


def test_a_folder_name_outside_ascii_is_reselected_with_qresync(reader, dovecot, wire):
    name = 'Reçus "2026"'
    client = dovecot.login(reader.user.email)
    client.create_folder(name)
    client.logout()
    kept = dovecot.deliver(reader.user.email, make_message(1), folder=name)
    gone = dovecot.deliver(reader.user.email, make_message(2), folder=name)
    sync_account(reader, [name])
    delete_elsewhere(dovecot, reader, [gone], name)
    start = wire.mark()
    (folder,) = sync_account(reader, [name])
    assert uids(folder) == [kept]
    # As imaplib logs it: the command's repr, so each backslash shows twice.
    assert any('EXAMINE "RE&AOC-US \\\\"2026\\\\"" (QRESYNC (' in line for line in sent(wire(start)))


def test_a_new_uidvalidity_starts_the_folder_over(reader, dovecot):
    dovecot.deliver(reader.user.email, make_message(1), folder="Archive")
    dovecot.deliver(reader.user.email, make_message(2), folder="Archive")
    (folder,) = sync_account(reader, ["Archive"])
    old_validity = folder.uidvalidity
    client = dovecot.login(reader.user.email)
    client.delete_folder("Archive")
    client.create_folder("Archive")
    client.logout()
    dovecot.deliver(reader.user.email, make_message(3), folder="Archive")

    (folder,) = sync_account(reader, ["Archive"])
    assert folder.uidvalidity != old_validity
    assert list(folder.messages.values_list("subject", flat=True)) == ["Message 3"]
    assert folder.total == 1 and folder.is_complete


def test_vanished_reaches_the_cached_part_of_a_folder_still_being_filled(reader, dovecot, monkeypatch, wire):
    monkeypatch.setattr(sync, "HEAD_SIZE", 3)
    monkeypatch.setattr(sync, "CHUNK", 2)
    for n in range(1, 9):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_account(reader, ["INBOX"], backfill_chunks=0)[0]
    cached = uids(folder)
    assert len(cached) == 3
    delete_elsewhere(dovecot, reader, [cached[0], 1])  # one cached, one not fetched yet

    start = wire.mark()
    folder = sync_account(reader, ["INBOX"], backfill_chunks=0)[0]
    assert uids(folder) == cached[1:]
    assert any(f"(QRESYNC ({folder.uidvalidity} " in line for line in sent(wire(start)))
    folder = sync_inbox(reader)
    assert folder.total == 6 and folder.is_complete
    assert 1 not in uids(folder) and cached[0] not in uids(folder)


def test_a_modseq_gone_backwards_refreshes_every_flag(reader, dovecot):
    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    # As after the server was restored from a backup: the cache has seen MODSEQs it never will.
    Folder.objects.filter(pk=folder.pk).update(highestmodseq=folder.highestmodseq + 1000)
    other = other_client(dovecot, reader)
    other.add_flags(other.search(["SUBJECT", "Message 2"]), [b"\\Seen"])
    other.logout()
    folder = sync_inbox(reader)
    assert list(folder.messages.filter(seen=True).values_list("subject", flat=True)) == ["Message 2"]
    assert folder.highestmodseq < Folder.objects.get(pk=folder.pk).highestmodseq + 1000


def test_without_qresync_deletions_are_found_by_comparing_uids(reader, dovecot, monkeypatch, wire):
    hide_capabilities(monkeypatch, b"QRESYNC")  # a server with CONDSTORE but not QRESYNC
    for n in range(1, 5):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    first, second, *_rest = uids(folder)
    delete_elsewhere(dovecot, reader, [second], flag=(first, b"\\Flagged"))
    dovecot.deliver(reader.user.email, make_message(5))

    start = wire.mark()
    folder = sync_inbox(reader)
    assert second not in uids(folder) and folder.total == 4
    assert folder.messages.get(uid=first).flagged
    assert folder.messages.filter(subject="Message 5").count() == 1
    commands = sent(wire(start))
    assert not any("QRESYNC" in line for line in commands)
    assert any("CHANGEDSINCE" in line for line in commands), "flags by CONDSTORE"
    assert any("SEARCH ALL" in line for line in commands), "deletions by comparing every UID"


def test_without_condstore_deletions_and_flags_are_still_found(reader, dovecot, monkeypatch):
    hide_capabilities(monkeypatch, b"CONDSTORE", b"QRESYNC")
    for n in range(1, 5):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    assert folder.highestmodseq is None
    first, second, *_rest = uids(folder)
    delete_elsewhere(dovecot, reader, [second], flag=(first, b"\\Seen"))
    folder = sync_inbox(reader)
    assert second not in uids(folder) and folder.total == 3
    assert list(folder.messages.filter(seen=True).values_list("uid", flat=True)) == [first]


# -- what the server says is parsed strictly ---------------------------------------------------


def test_a_huge_vanished_range_deletes_only_what_it_covers(reader, dovecot):
    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    first, second, third = uids(folder)
    sync._delete_uids(folder, [(1, first), (third, imap.MAX_UID)])
    assert uids(folder) == [second]
    assert MessageSummary.objects.filter(folder=folder).count() == 1
