"""The envelope cache follows a real Dovecot, including what other clients do meanwhile."""

from __future__ import annotations

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import sync_account
from webmail.mailbox import sync
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.protocol import imap


def sync_inbox(account, **options) -> Folder:
    return sync_account(account, ["INBOX"], **options)[0]


def uids(folder: Folder) -> list[int]:
    return sorted(folder.messages.values_list("uid", flat=True))


def test_the_folder_list_mirrors_the_server_with_special_uses(reader):
    sync_account(reader, [])
    uses = dict(Folder.objects.filter(account=reader).values_list("name", "special_use"))
    assert uses["INBOX"] == SpecialUse.INBOX
    assert uses["Sent"] == SpecialUse.SENT
    assert uses["Trash"] == SpecialUse.TRASH
    assert uses["Junk"] == SpecialUse.JUNK


def test_a_first_sync_fetches_everything_with_envelopes(reader, dovecot):
    for n in range(1, 6):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    assert folder.total == 5 and folder.unread == 5 and folder.is_complete
    summary = folder.messages.get(subject="Message 3")
    assert (summary.from_name, summary.from_address) == ("Sender 3", "sender3@example.test")
    assert summary.message_id == "<m3@example.test>"
    assert summary.to == "Rita Reader <rita@example.test>"
    assert summary.date.minute == 3


def test_a_large_first_sync_shows_the_newest_first_and_backfills_the_rest(reader, dovecot, monkeypatch):
    monkeypatch.setattr(sync, "HEAD_SIZE", 3)
    monkeypatch.setattr(sync, "CHUNK", 2)
    for n in range(1, 9):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader, backfill_chunks=0)
    assert folder.total == 3
    assert sorted(folder.messages.values_list("subject", flat=True)) == ["Message 6", "Message 7", "Message 8"]
    assert not folder.is_complete
    folder = sync_inbox(reader, backfill_chunks=1)
    assert folder.total == 5
    folder = sync_inbox(reader)
    assert folder.total == 8 and folder.is_complete
    # The newest page with the server's previews; the backfill takes only those it has already
    # (none here: making one reads the body, a fifth of a first sync's time).
    previews = dict(folder.messages.values_list("subject", "preview"))
    assert [previews[f"Message {n}"] for n in (6, 7, 8)] == [f"Body of message {n}." for n in (6, 7, 8)]
    assert [previews[f"Message {n}"] for n in range(1, 6)] == [""] * 5


def test_new_mail_flag_changes_and_deletions_by_another_client_are_picked_up(reader, dovecot):
    for n in range(1, 6):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    first, second = uids(folder)[:2]

    other = dovecot.login(reader.user.email)
    other.select_folder("INBOX")
    other.add_flags([first], [b"\\Seen", b"\\Flagged"])
    other.delete_messages([second])
    other.expunge()
    other.logout()
    dovecot.deliver(reader.user.email, make_message(6))

    folder = sync_inbox(reader)
    assert second not in uids(folder), "no ghosts"
    assert folder.total == 5
    row = folder.messages.get(uid=first)
    assert row.seen and row.flagged
    assert folder.messages.filter(subject="Message 6").count() == 1, "no duplicates"
    assert folder.unread == 4


def test_a_message_moved_by_another_client_leaves_this_folder(reader, dovecot):
    dovecot.deliver(reader.user.email, make_message(1))
    dovecot.deliver(reader.user.email, make_message(2))
    sync_inbox(reader)
    other = dovecot.login(reader.user.email)
    other.select_folder("INBOX")
    other.move(other.search(["SUBJECT", "Message 1"]), "Archive")
    other.logout()
    folders = {f.name: f for f in sync_account(reader, ["INBOX", "Archive"])}
    assert list(folders["INBOX"].messages.values_list("subject", flat=True)) == ["Message 2"]
    assert list(folders["Archive"].messages.values_list("subject", flat=True)) == ["Message 1"]


def test_a_uidvalidity_change_resyncs_the_folder(reader, dovecot):
    dovecot.deliver(reader.user.email, make_message(1))
    folder = sync_inbox(reader)
    Folder.objects.filter(pk=folder.pk).update(uidvalidity=folder.uidvalidity + 1)
    MessageSummary.objects.filter(folder=folder).update(subject="stale")
    folder = sync_inbox(reader)
    assert list(folder.messages.values_list("subject", flat=True)) == ["Message 1"]


def test_broken_headers_never_break_the_sync(reader, dovecot):
    raw = (
        b"From: =?unknown-charset?q?Mr_X?= <x@example.test>\r\n"
        b"Subject: =?utf-8?b?broken base64?=\r\n"
        b"Subject-Extra: caf\xe9\r\n"
        b"Date: not a date\r\n"
        b"\r\nbody\r\n"
    )
    dovecot.deliver(reader.user.email, raw)
    dovecot.deliver(reader.user.email, b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nhi\r\n")
    folder = sync_inbox(reader)
    assert folder.total == 2
    assert "Grüße" in folder.messages.values_list("subject", flat=True)


def test_threads_group_replies_by_references(reader, dovecot):
    dovecot.deliver(reader.user.email, make_message(1, subject="Plan", message_id="<root@x>"))
    dovecot.deliver(
        reader.user.email,
        make_message(
            2, subject="Re: Plan", message_id="<r1@x>", extra="In-Reply-To: <root@x>\r\nReferences: <root@x>\r\n"
        ),
    )
    dovecot.deliver(
        reader.user.email,
        make_message(3, subject="Re: Re: Plan", message_id="<r2@x>", extra="References: <root@x> <r1@x>\r\n"),
    )
    folder = sync_inbox(reader)
    assert set(folder.messages.values_list("thread_key", flat=True)) == {"<root@x>"}


def test_mailbox_names_in_modified_utf7_are_shown_decoded(reader, dovecot):
    client = dovecot.login(reader.user.email)
    client.create_folder("Reçus/Année 2026")
    client.logout()
    sync_account(reader, [])
    names = set(Folder.objects.filter(account=reader).values_list("name", flat=True))
    assert "Reçus/Année 2026" in names


def test_imap_login_goes_through_the_shared_module(reader):
    with imap.logged_in(reader) as client:
        assert client.list_folders()


def test_without_condstore_flags_are_refreshed_in_full(reader, dovecot, monkeypatch):
    from imapclient import IMAPClient

    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n))
    folder = sync_inbox(reader)
    original = IMAPClient.capabilities
    # A server without CONDSTORE (Dovecot cannot be told to hide it per connection).
    monkeypatch.setattr(IMAPClient, "capabilities", lambda self: tuple(c for c in original(self) if c != b"CONDSTORE"))
    other = dovecot.login(reader.user.email)
    other.select_folder("INBOX")
    other.add_flags(other.search(["SUBJECT", "Message 2"]), [b"\\Seen"])
    other.logout()
    folder = sync_inbox(reader)
    assert list(folder.messages.filter(seen=True).values_list("subject", flat=True)) == ["Message 2"]


def test_a_nul_in_a_header_is_dropped_not_fatal(reader, dovecot):
    # PostgreSQL refuses NUL in text; an encoded word can carry one (=00).
    raw = b"From: =?utf-8?q?Mr=00X?= <x@example.test>\r\nSubject: =?utf-8?q?a=00b?=\r\n\r\nhi\r\n"
    dovecot.deliver(reader.user.email, raw)
    folder = sync_inbox(reader)
    assert list(folder.messages.values_list("subject", "from_name")) == [("a b", "Mr X")]


def test_a_delivery_report_among_older_mail_is_read_while_the_next_chunk_is_fetched(
    reader, dovecot, monkeypatch, caplog
):
    monkeypatch.setattr(sync, "HEAD_SIZE", 2)
    monkeypatch.setattr(sync, "CHUNK", 2)
    report = (
        b"From: MAILER-DAEMON@example.test\r\nSubject: Undelivered Mail\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x--\r\n"
    )
    delivered = {}
    for n in range(1, 9):
        delivered[n] = dovecot.deliver(reader.user.email, report if n == 6 else make_message(n))
    caplog.set_level("INFO", logger="webmail.mailbox.sync")
    folder = sync_inbox(reader)
    # The head is 7 and 8; the backfill goes (5, 6), (3, 4), (1, 2): the report is read while the
    # FETCH of (3, 4) is on its way, over the same connection.
    assert folder.total == 8 and folder.is_complete
    assert uids(folder) == sorted(delivered.values())
    assert f"delivery report {delivered[6]} in INBOX" in caplog.text
    assert folder.messages.get(uid=delivered[6]).subject == "Undelivered Mail"


def test_each_row_keeps_the_servers_preview_of_the_text(reader, dovecot, monkeypatch):
    html = (
        "From: Ann <ann@example.test>\r\nTo: rita@example.test\r\nSubject: Rich\r\n"
        "Message-ID: <rich@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><head><style>p{color:red}</style></head><body><p>Quarterly <b>numbers</b>\r\n"
        "are in:\u202e evil</p></body></html>\r\n"
    ).encode()
    dovecot.deliver(reader.user.email, make_message(1))
    dovecot.deliver(reader.user.email, html)
    folder = sync_inbox(reader)
    previews = dict(folder.messages.values_list("subject", "preview"))
    assert previews["Message 1"] == "Body of message 1."
    assert previews["Rich"].startswith("Quarterly numbers are in:")  # tags gone, one line
    assert "\u202e" not in previews["Rich"]  # no direction override reaches the list

    # A server without PREVIEW: rows as before, with no preview.
    monkeypatch.setattr(sync, "PREVIEW_ITEM", b"X-NO-SUCH-CAPABILITY")
    dovecot.deliver(reader.user.email, make_message(3))
    folder = sync_inbox(reader)
    assert folder.messages.get(subject="Message 3").preview == ""
