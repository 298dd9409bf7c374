"""The reading pane's view of a message (the message alone, with its neighbours in the list) and
the body document's colours (the user's theme, unless the mail has colours of its own)."""

from __future__ import annotations

from django.urls import reverse

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, sync_account
from webmail.mailbox.models import Folder

COLOURED = (
    b"From: Shop <shop@example.test>\r\nTo: rita@example.test\r\nSubject: Sale\r\n"
    b"Date: Mon, 2 Nov 2026 08:00:00 +0000\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p style="color: #900">Half price</p>\r\n'
)


def inbox_with(reader, dovecot, raws) -> tuple[Folder, list[int]]:
    uids = deliver_all(dovecot, reader.user.email, raws)
    sync_account(reader, ["INBOX"])
    return Folder.objects.get(account=reader, name="INBOX"), uids


def test_the_pane_gets_the_message_alone_with_links_to_the_newer_and_older_one(reader, reader_client, dovecot):
    inbox, uids = inbox_with(reader, dovecot, [make_message(n) for n in (1, 2, 3)])
    url = reverse("mailbox:message", args=[inbox.pk, uids[1]])
    pane = reader_client.get(url, HTTP_HX_REQUEST="true")
    html = pane.content.decode()
    assert pane.status_code == 200 and "<html" not in html and 'class="panel reading"' in html
    assert "HX-Request" in pane["Vary"], "the page and the pane share a URL"
    link = reverse("mailbox:message", args=[inbox.pk, uids[2]])
    assert f'href="{link}" data-key-nav="prev" aria-keyshortcuts="k" title="Newer message"' in html
    link = reverse("mailbox:message", args=[inbox.pk, uids[0]])
    assert f'href="{link}" data-key-nav="next" aria-keyshortcuts="j" title="Older message"' in html
    page = reader_client.get(url).content.decode()
    assert "<html" in page and "Back to Inbox" in page

    newest = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uids[2]])).content.decode()
    assert 'rel="prev" data-pane-link aria-disabled="true"' in newest


def test_the_body_follows_the_theme_unless_the_mail_sets_its_colours(reader, reader_client, dovecot):
    inbox, (plain, coloured) = inbox_with(reader, dovecot, [make_message(1), COLOURED])

    def body(uid: int) -> str:
        return reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid])).content.decode()

    assert '<html class="themed">' in body(plain) and 'content="light dark"' in body(plain)
    assert "<html>" in body(coloured) and 'name="color-scheme" content="light"' in body(coloured)
    reader.user.theme = "dark"
    reader.user.save(update_fields=["theme"])
    assert '<html class="themed dark">' in body(plain) and 'content="dark"' in body(plain)
    assert "<html>" in body(coloured)
