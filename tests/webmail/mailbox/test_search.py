"""Search (IMAP SEARCH on the server, shown from the cache) and conversations across folders."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, folder_named, server_flags, sync_account
from webmail.mailbox.models import Folder


def subjects(html: str) -> list[str]:
    return re.findall(r'/mail/\d+/\d+/">([^<]*)</a>', html)


def search(client: Client, folder: Folder, **query) -> str:
    response = client.get(reverse("mailbox:search", args=[folder.pk]), query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def with_attachment(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Files Person <files@example.test>"
    message["To"] = "rita@example.test"
    message["Subject"] = subject
    message["Date"] = "Tue, 3 Nov 2026 09:00:00 +0000"
    message.set_content("see attachment")
    message.add_attachment(b"data", maintype="application", subtype="octet-stream", filename="a.bin")
    return message.as_bytes()


@pytest.fixture
def mailbox(reader, reader_client, dovecot) -> dict[str, Folder]:
    address = reader.user.email
    deliver_all(
        dovecot,
        address,
        [
            make_message(1, subject="Quarterly report"),
            make_message(2, subject="Lunch on Friday?"),
            make_message(3, subject="Report draft, Grüße aus Köln"),
            with_attachment("Scans"),
        ],
    )
    dovecot.deliver(address, make_message(5, subject="Old report"), folder="Archive", flags=["\\Seen"])
    client = dovecot.login(address)
    client.select_folder("INBOX")
    client.add_flags(client.search(["SUBJECT", "Lunch"]), [b"\\Seen"])
    client.logout()
    sync_account(reader)
    return {f.name: f for f in Folder.objects.filter(account=reader)}


def test_search_by_subject_in_this_folder(reader_client, mailbox):
    html = search(reader_client, mailbox["INBOX"], subject="report")
    assert sorted(subjects(html)) == ["Quarterly report", "Report draft, Grüße aus Köln"]
    assert "2 messages found" in html


def test_search_by_sender(reader_client, mailbox):
    assert subjects(search(reader_client, mailbox["INBOX"], **{"from": "sender2@example.test"})) == ["Lunch on Friday?"]
    assert subjects(search(reader_client, mailbox["INBOX"], **{"from": "Files Person"})) == ["Scans"]


def test_search_unread_only_and_with_attachments(reader_client, mailbox):
    unread = subjects(search(reader_client, mailbox["INBOX"], q="report", unread="1"))
    assert sorted(unread) == ["Quarterly report", "Report draft, Grüße aus Köln"]
    assert "Lunch on Friday?" not in subjects(search(reader_client, mailbox["INBOX"], unread="1"))
    assert subjects(search(reader_client, mailbox["INBOX"], attachments="1")) == ["Scans"]


def test_search_in_all_folders_names_the_folder(reader_client, mailbox):
    html = search(reader_client, mailbox["INBOX"], q="report", scope="all")
    assert sorted(subjects(html)) == ["Old report", "Quarterly report", "Report draft, Grüße aus Köln"]
    assert '<td class="in-folder">Archive</td>' in html
    assert "Old report" not in subjects(search(reader_client, mailbox["INBOX"], q="report"))


def test_search_terms_are_sent_safely(reader_client, mailbox):
    assert subjects(search(reader_client, mailbox["INBOX"], q="Grüße")) == ["Report draft, Grüße aus Köln"]
    # A line break would end the IMAP command; here it is only a space between words.
    assert subjects(search(reader_client, mailbox["INBOX"], q='report"\r\nA1 DELETE INBOX')) == []
    assert subjects(search(reader_client, mailbox["INBOX"], subject="Quarterly\r\nreport")) == ["Quarterly report"]
    assert Folder.objects.filter(name="INBOX", account=mailbox["INBOX"].account).exists()


def test_search_by_date_and_a_bad_date_is_explained(reader_client, mailbox):
    # SINCE and BEFORE compare the date the server received the message: here, today.
    today = timezone.localdate()
    assert len(subjects(search(reader_client, mailbox["INBOX"], since=today.isoformat()))) == 4
    assert subjects(search(reader_client, mailbox["INBOX"], before=today.isoformat())) == []
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert subjects(search(reader_client, mailbox["INBOX"], since=tomorrow)) == []
    html = search(reader_client, mailbox["INBOX"], before="yesterday")
    assert "Before: Enter a valid date." in html


def test_search_results_do_not_mark_anything_read(reader, reader_client, mailbox, dovecot):
    search(reader_client, mailbox["INBOX"], q="report")
    flags = server_flags(dovecot, reader.user.email)
    assert sum(b"\\Seen" in f for f in flags.values()) == 1


# -- conversations ----------------------------------------------------------------------------


def test_a_conversation_gathers_the_users_replies_from_sent_oldest_first(reader, reader_client, dovecot):
    address = reader.user.email
    dovecot.deliver(address, make_message(1, subject="Plan", message_id="<root@example.test>"))
    reply = (
        f"From: Rita Reader <{address}>\r\nTo: sender1@example.test\r\nSubject: Re: Plan\r\n"
        "Date: Mon, 2 Nov 2026 11:00:00 +0000\r\nMessage-ID: <mine@example.test>\r\n"
        "In-Reply-To: <root@example.test>\r\nReferences: <root@example.test>\r\n\r\nSounds good.\r\n"
    ).encode()
    dovecot.deliver(address, reply, folder="Sent", flags=["\\Seen"])
    dovecot.deliver(
        address,
        make_message(
            2,
            subject="Re: Re: Plan",
            message_id="<third@example.test>",
            extra="References: <root@example.test> <mine@example.test>\r\n",
        ).replace(b"10:02:00", b"12:00:00"),
    )
    dovecot.deliver(address, make_message(3, subject="Unrelated"))
    sync_account(reader)
    inbox = folder_named(reader, "INBOX")
    root = inbox.messages.get(subject="Plan")

    listing = reader_client.get(reverse("mailbox:folder", args=[inbox.pk])).content.decode()
    assert f'href="{reverse("mailbox:thread", args=[inbox.pk, root.pk])}"' in listing
    assert "3 in conversation" in listing

    response = reader_client.get(reverse("mailbox:thread", args=[inbox.pk, root.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    order = [m.group(1) for m in re.finditer(r'<span class="badge">([^<]+)</span>', html)]
    assert order == ["INBOX", "Sent", "INBOX"]
    senders = re.findall(r'<span class="thread-from"><strong>([^<]+)</strong>', html)
    assert senders == ["Sender 1", "Rita Reader", "Sender 2"]
    assert "Unrelated" not in html
    sent = folder_named(reader, "Sent")
    mine = sent.messages.get()
    assert reverse("mailbox:body", args=[sent.pk, mine.uid]) in html
    assert html.count('sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"') == 3
    flags = server_flags(dovecot, address)
    assert b"\\Seen" in flags[root.uid], "opening the conversation reads it"
    assert b"\\Seen" not in flags[inbox.messages.get(subject="Unrelated").uid]
