"""The private parts of imapclient and imaplib that webmail.protocol.imap_internals uses: the installed
versions have them, and when an upgrade takes one away, start-up says so instead of QRESYNC
and the quick FETCH reader falling back in silence."""

from __future__ import annotations

import imaplib

import pytest
from django.core import checks
from imapclient import IMAPClient

from tests.webmail.helpers import make_message
from webmail.protocol import imap, imap_internals


def internals_errors() -> list[checks.CheckMessage]:
    return [message for message in checks.run_checks() if message.id == "webmail.E001"]


def test_the_installed_imapclient_and_imaplib_have_everything_used():
    assert imap_internals.missing() == []
    assert internals_errors() == []


def test_a_private_method_gone_after_an_upgrade_stops_start_up(monkeypatch):
    monkeypatch.delattr(IMAPClient, "_process_select_response")
    (error,) = internals_errors()
    assert "IMAPClient._process_select_response is gone" in error.msg
    assert "SELECT" in error.msg, "it says what the project used it for"


def test_a_private_method_that_takes_other_arguments_stops_start_up(monkeypatch):
    monkeypatch.setattr(imaplib.IMAP4, "_command_complete", lambda self, tag: None)
    (error,) = internals_errors()
    assert "IMAP4._command_complete takes ('self', 'tag')" in error.msg


def test_what_a_connected_session_must_have_is_there(reader, dovecot):
    """The instance attributes (only a connected client has them), used the way imap.py does."""
    for n in (1, 2):
        dovecot.deliver(reader.user.email, make_message(n))
    with imap.logged_in(reader) as client:
        assert isinstance(client._imap, imaplib.IMAP4)
        assert client._imap.debug == 0, "quiet_debug reached imaplib's own switch"
        status = client.select_folder("INBOX", readonly=True)
        uidvalidity, modseq = status[b"UIDVALIDITY"], status[b"HIGHESTMODSEQ"]
        status, vanished, fetched = imap_internals.select_with_parameters(
            client, "INBOX", f"(QRESYNC ({uidvalidity} 1))"
        )
        assert vanished == [], "nothing was expunged"
        assert status[b"EXISTS"] == 2 and status[b"HIGHESTMODSEQ"] == modseq
        assert len(fetched) == 2, "the flags of both messages, changed since MODSEQ 1"
        assert "FETCH" not in client._imap.untagged_responses, "taken out of imaplib's store"
        tag = imap_internals.send_command(client, "UID", "FETCH", "1:*", imap_internals.fetch_items([b"FLAGS"]), None)
        assert len(imap_internals.fetch_answer(client, tag)) == 2


def test_a_refused_command_is_imapclients_error(reader):
    from imapclient.exceptions import IMAPClientError

    with imap.logged_in(reader) as client:
        client.select_folder("INBOX", readonly=True)
        tag = imap_internals.send_command(client, "UID", "FETCH", "x:y", "(FLAGS)")
        with pytest.raises(IMAPClientError):
            imap_internals.fetch_answer(client, tag)
