"""The mailbox operations of webmail.protocol.imap: user-derived arguments checked, the server changed."""

from __future__ import annotations

from datetime import date

import pytest
from imapclient import IMAPClient

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, server_flags, server_subjects
from webmail.protocol import imap


@pytest.fixture
def session(reader):
    with imap.session(reader) as client:
        yield client


@pytest.mark.parametrize("name", ["INBOX\r\nA1 DELETE Trash", "a\nb", "nul\x00"])
def test_names_with_line_breaks_never_reach_the_wire(session, name):
    for call in (
        lambda: imap.fetch_raw(session, name, 1),
        lambda: imap.set_flags(session, name, [1], ["\\Seen"]),
        lambda: imap.move(session, "INBOX", [1], name),
        lambda: imap.search(session, "INBOX", ["SUBJECT", name]),
        lambda: imap.create_folder(session, name),
        lambda: imap.rename_folder(session, "Archive", name),
        lambda: imap.delete_folder(session, name),
    ):
        with pytest.raises(imap.UnsafeArgument):
            call()


@pytest.mark.parametrize("uids", [["1"], [0], [-3], [True], [1.0], ["1:*"]])
def test_uids_must_be_positive_ints(session, uids):
    with pytest.raises(imap.UnsafeArgument):
        imap.set_flags(session, "INBOX", uids, ["\\Seen"])


def test_flags_must_be_flag_atoms(session):
    with pytest.raises(imap.UnsafeArgument):
        imap.set_flags(session, "INBOX", [1], ["\\Seen) (\\Deleted"])


def test_fetch_raw_reads_without_marking_anything(reader, dovecot, session):
    uid = dovecot.deliver(reader.user.email, make_message(1))
    raw = imap.fetch_raw(session, "INBOX", uid)
    assert b"Body of message 1." in raw
    assert b"\\Seen" not in server_flags(dovecot, reader.user.email)[uid]
    assert imap.fetch_raw(session, "INBOX", uid + 1) is None


def test_search_sends_non_ascii_terms_as_literals(reader, dovecot, session):
    messages = [make_message(1, subject="Grüße"), make_message(2, subject='a "quoted" \\ x')]
    deliver_all(dovecot, reader.user.email, messages)
    assert len(imap.search(session, "INBOX", ["SUBJECT", "Grüße"])) == 1
    assert len(imap.search(session, "INBOX", ["SUBJECT", '"quoted" \\'])) == 1
    assert len(imap.search(session, "INBOX", ["SINCE", date(2000, 1, 1), "UNSEEN"])) == 2
    with pytest.raises(imap.UnsafeArgument):
        imap.search(session, "INBOX", ["SUBJECT", object()])


def test_move_without_the_move_extension_copies_and_expunges_only_those(reader, dovecot, session, monkeypatch):
    uids = deliver_all(dovecot, reader.user.email, [make_message(n) for n in (1, 2, 3)])
    other = dovecot.login(reader.user.email)  # another client marked one \Deleted and left it
    other.select_folder("INBOX")
    other.add_flags([uids[2]], [b"\\Deleted"])
    other.logout()
    original = IMAPClient.has_capability
    monkeypatch.setattr(IMAPClient, "has_capability", lambda self, cap: cap != "MOVE" and original(self, cap))
    imap.move(session, "INBOX", [uids[0]], "Archive")
    assert server_subjects(dovecot, reader.user.email, "Archive") == ["Message 1"]
    assert server_subjects(dovecot, reader.user.email, "INBOX") == ["Message 2", "Message 3"]


def test_a_refused_command_is_a_mail_server_error_in_plain_words(session):
    with pytest.raises(imap.MailServerError, match="the server refused the request"):
        imap.fetch_raw(session, "No such folder", 1)
    with pytest.raises(imap.MailServerError, match="the server refused the request"):
        imap.delete_folder(session, "No such folder")
