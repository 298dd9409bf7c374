"""The small tools against a real Dovecot: empty Trash and Junk, mark a folder read, the
source and the .eml download, the print page; each one 404 for another user."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.urls import reverse
from imapclient import IMAPClient

from tests.factories import UserFactory
from tests.helpers import sign_in
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, folder_named, server_flags, server_subjects, sync_account
from webmail.mailbox import tools


def csp(response) -> dict[str, list[str]]:
    found = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        found[name] = values
    return found


@pytest.fixture
def expunges(monkeypatch) -> list:
    """What each EXPUNGE the app sends names (None: a plain EXPUNGE); the real command still runs."""
    seen: list = []
    real = IMAPClient.expunge

    def recording(self, messages=None):
        seen.append(None if messages is None else list(messages))
        return real(self, messages)

    monkeypatch.setattr(IMAPClient, "expunge", recording)
    return seen


# -- whole folders ------------------------------------------------------------------------------


def test_empty_trash_deletes_all_1200_messages_with_uid_expunge_and_nothing_else(
    reader, reader_client, dovecot, expunges
):
    address = reader.user.email
    trashed = deliver_all(dovecot, address, [make_message(n) for n in range(1, 1201)], folder="Trash")
    deliver_all(dovecot, address, [make_message(n, subject=f"Keep {n}") for n in (1, 2)])
    deliver_all(dovecot, address, [make_message(3, subject="Keep junk")], folder="Junk")
    sync_account(reader)
    trash = folder_named(reader, "Trash")
    assert trash.total == 1200 and trash.messages.count() == 1200
    url = reverse("mailbox:empty", args=[trash.pk])

    page = reader_client.post(url)  # asks first
    assert page.status_code == 200
    assert "All 1200 messages in Trash are deleted from the mail server for good." in page.content.decode()
    assert len(server_subjects(dovecot, address, "Trash")) == 1200 and not expunges

    response = reader_client.post(url, {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("mailbox:folder", args=[trash.pk])
    assert server_subjects(dovecot, address, "Trash") == []
    assert None not in expunges, "only UID EXPUNGE, never a plain EXPUNGE"
    assert sorted(uid for batch in expunges for uid in batch) == trashed
    assert server_subjects(dovecot, address) == ["Keep 1", "Keep 2"]
    assert server_subjects(dovecot, address, "Junk") == ["Keep junk"]
    trash.refresh_from_db()
    assert (trash.total, trash.messages.count()) == (0, 0)
    assert folder_named(reader, "INBOX").messages.count() == 2
    flash = reader_client.get(response["Location"]).content.decode()
    assert "Trash is empty: 1200 messages deleted for good." in flash


def test_empty_junk_works_and_other_folders_cannot_be_emptied(reader, reader_client, dovecot):
    address = reader.user.email
    deliver_all(dovecot, address, [make_message(n) for n in (1, 2)], folder="Junk")
    deliver_all(dovecot, address, [make_message(3)])
    sync_account(reader)
    junk, inbox = folder_named(reader, "Junk"), folder_named(reader, "INBOX")
    reader_client.post(reverse("mailbox:empty", args=[junk.pk]), {"confirm": "1"})
    assert server_subjects(dovecot, address, "Junk") == []
    for other in (inbox, folder_named(reader, "Archive")):
        assert reader_client.post(reverse("mailbox:empty", args=[other.pk]), {"confirm": "1"}).status_code == 400
    assert server_subjects(dovecot, address) == ["Message 3"]
    assert reader_client.get(reverse("mailbox:empty", args=[junk.pk])).status_code == 405


def test_mark_all_read_sets_seen_on_every_message_on_the_server_not_one_page(reader, reader_client, dovecot):
    address = reader.user.email
    deliver_all(dovecot, address, [make_message(n) for n in range(1, 121)])
    deliver_all(dovecot, address, [make_message(n) for n in (1, 2)], folder="Archive")
    sync_account(reader)
    inbox = folder_named(reader, "INBOX")
    assert inbox.unread == 120
    response = reader_client.post(reverse("mailbox:mark_all_read", args=[inbox.pk]), {"next": "/mail/"})
    assert response.status_code == 302 and response["Location"] == "/mail/"
    assert all(b"\\Seen" in flags for flags in server_flags(dovecot, address).values())
    assert len(server_flags(dovecot, address)) == 120
    assert not any(b"\\Seen" in flags for flags in server_flags(dovecot, address, "Archive").values())
    inbox.refresh_from_db()
    assert inbox.unread == 0 and not inbox.messages.filter(seen=False).exists()
    assert folder_named(reader, "Archive").messages.filter(seen=False).count() == 2
    assert "120 messages marked as read." in reader_client.get("/mail/", follow=True).content.decode()


# -- the source and the download ----------------------------------------------------------------

HTML_MAIL = (
    b"From: Ann <ann@example.test>\r\nTo: rita@example.test\r\nSubject: Report: Q3/Q4 <final>\r\n"
    b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <html@example.test>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<script>alert(1)</script><p>Hello <b>there</b></p>\r\n"
)


def test_the_source_is_plain_text_headers_first_and_sandboxed(reader, reader_client, dovecot):
    uid = dovecot.deliver(reader.user.email, HTML_MAIL)
    sync_account(reader, ["INBOX"])
    inbox = folder_named(reader, "INBOX")
    response = reader_client.get(reverse("mailbox:source", args=[inbox.pk, uid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = csp(response)
    assert policy["sandbox"] == [] and policy["default-src"] == ["'none'"]
    assert response.content == dovecot.mailbox_messages(reader.user.email)[0]
    assert response.content.startswith(b"From: Ann")
    assert b"\\Seen" not in server_flags(dovecot, reader.user.email)[uid], "looking at the source reads nothing"


def test_a_large_message_s_source_is_cut_and_its_download_streams_all_of_it(reader, reader_client, dovecot):
    line = b"x" * 998 + b"\r\n"
    raw = make_message(1, subject="Big").replace(b"Body of message 1.\r\n", line * 3500)  # 3.5 MB
    uid = dovecot.deliver(reader.user.email, raw)
    sync_account(reader, ["INBOX"])
    inbox = folder_named(reader, "INBOX")
    stored = dovecot.mailbox_messages(reader.user.email)[0]

    source = reader_client.get(reverse("mailbox:source", args=[inbox.pk, uid])).content
    assert source.startswith(stored[: tools.SOURCE_BYTES])
    assert len(source) < tools.SOURCE_BYTES + 500
    assert b"[Cut here: 1.0\xc2\xa0MB of 3.3\xc2\xa0MB are shown." in source

    response = reader_client.get(reverse("mailbox:download", args=[inbox.pk, uid]))
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) == 4 and max(map(len, chunks)) == tools.SLICE_BYTES
    assert b"".join(chunks) == stored
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == 'attachment; filename="Big.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in csp(response)


def test_the_download_streams_under_asgi_too(reader, reader_client, dovecot):
    uid = dovecot.deliver(reader.user.email, HTML_MAIL)
    sync_account(reader, ["INBOX"])
    inbox = folder_named(reader, "INBOX")
    client = AsyncClient()
    client.cookies = reader_client.cookies

    async def download() -> tuple:
        response = await client.get(reverse("mailbox:download", args=[inbox.pk, uid]))
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, content = async_to_sync(download)()
    assert response.is_async
    assert content == dovecot.mailbox_messages(reader.user.email)[0]
    # Unsafe characters of the subject do not reach the file name.
    assert response["Content-Disposition"] == 'attachment; filename="Report Q3 Q4 final.eml"'


def test_source_and_download_of_a_message_gone_are_404(reader, reader_client, dovecot):
    uid = dovecot.deliver(reader.user.email, HTML_MAIL)
    sync_account(reader, ["INBOX"])
    inbox = folder_named(reader, "INBOX")
    for name in ("source", "download", "print"):
        assert reader_client.get(reverse(f"mailbox:{name}", args=[inbox.pk, uid + 1])).status_code == 404, name


# -- printing -----------------------------------------------------------------------------------


def test_the_print_page_is_a_sandboxed_document_with_the_sanitized_body(reader, reader_client, dovecot):
    uid = dovecot.deliver(reader.user.email, HTML_MAIL)
    sync_account(reader, ["INBOX"])
    inbox = folder_named(reader, "INBOX")
    response = reader_client.get(reverse("mailbox:print", args=[inbox.pk, uid]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<p>Hello <b>there</b></p>" in html and "alert(1)" not in html
    assert "Report: Q3/Q4 &lt;final&gt;" in html and "Ann &lt;ann@example.test&gt;" in html
    assert 'class="topbar"' not in html and "sidebar" not in html
    policy = csp(response)
    assert policy["sandbox"] == ["allow-scripts", "allow-modals", "allow-popups", "allow-popups-to-escape-sandbox"]
    assert [src.rpartition("/static/")[2] for src in policy["script-src"]] == ["js/print.js"]
    assert not any(src in ("https:", "http:") for src in policy["img-src"])


def test_a_conversation_prints_every_message_oldest_first(reader, reader_client, dovecot):
    address = reader.user.email
    first = make_message(1, subject="Plan", message_id="<plan@example.test>")
    answer = make_message(2, subject="Re: Plan", extra="In-Reply-To: <plan@example.test>\r\n")
    answer = answer.replace(b"Body of message 2.", b"Let us do it.")
    dovecot.deliver(address, first)
    dovecot.deliver(address, answer, folder="Archive")
    sync_account(reader)
    inbox = folder_named(reader, "INBOX")
    summary = inbox.messages.get()
    html = reader_client.get(reverse("mailbox:print_thread", args=[inbox.pk, summary.pk])).content.decode()
    assert html.count('<article class="print-message">') == 2
    assert html.index("Body of message 1.") < html.index("Let us do it.")


# -- ownership ----------------------------------------------------------------------------------


def test_a_stranger_gets_404_for_every_tool(reader, reader_client, dovecot):
    address = reader.user.email
    uid = dovecot.deliver(address, HTML_MAIL)
    dovecot.deliver(address, make_message(2), folder="Trash")
    sync_account(reader)
    inbox, trash = folder_named(reader, "INBOX"), folder_named(reader, "Trash")
    summary = inbox.messages.get()
    stranger = sign_in(Client(), UserFactory(email="nosy@example.test"))
    for name in ("source", "download", "print"):
        assert stranger.get(reverse(f"mailbox:{name}", args=[inbox.pk, uid])).status_code == 404, name
    assert stranger.get(reverse("mailbox:print_thread", args=[inbox.pk, summary.pk])).status_code == 404
    assert stranger.post(reverse("mailbox:empty", args=[trash.pk]), {"confirm": "1"}).status_code == 404
    assert stranger.post(reverse("mailbox:mark_all_read", args=[inbox.pk])).status_code == 404
    assert server_subjects(dovecot, address, "Trash") == ["Message 2"]
    assert b"\\Seen" not in server_flags(dovecot, address)[uid]
