"""The mailbox pages against a real Dovecot: lists, actions, the reading pane, downloads."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Security
from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import sign_in
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, folder_named, server_flags, server_subjects, sync_account
from webmail.mailbox import tasks
from webmail.mailbox.models import Folder, MessageSummary

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def inbox_of(client: Client, account) -> Folder:
    """Open the mailbox as the user does; returns the Inbox row it synced."""
    response = client.get(reverse("mailbox:index"))
    assert response.status_code == 302
    return Folder.objects.get(account=account, name="INBOX")


def folder_url(folder: Folder, **query) -> str:
    url = reverse("mailbox:folder", args=[folder.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def rows(html: str) -> list[str]:
    return re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S)


def bulk(client: Client, folder: Folder, action: str, uids, **extra):
    data = {"action": action, "uid": [str(u) for u in uids], **extra}
    return client.post(reverse("mailbox:bulk", args=[folder.pk]), data)


# -- the list ---------------------------------------------------------------------------------


def test_home_sends_a_user_with_a_mail_account_to_the_inbox(reader, reader_client):
    response = reader_client.get(reverse("webmail:home"))
    assert response["Location"] == reverse("mailbox:index")
    response = reader_client.get(response["Location"])
    inbox = Folder.objects.get(account=reader, name="INBOX")
    assert response["Location"] == reverse("mailbox:folder", args=[inbox.pk])


def test_the_list_shows_the_newest_fifty_then_loads_the_rest_and_pages(reader, reader_client, dovecot, published):
    uids = deliver_all(dovecot, reader.user.email, [make_message(n) for n in range(1, 56)])
    flags = dovecot.login(reader.user.email)
    flags.select_folder("INBOX")
    flags.add_flags(uids[50:53], [b"\\Seen"])  # Messages 51-53 read
    flags.add_flags([uids[54]], [b"\\Flagged"])  # Message 55 flagged
    flags.logout()
    inbox = inbox_of(reader_client, reader)

    response = reader_client.get(folder_url(inbox))
    html = response.content.decode()
    assert response.status_code == 200
    listed = rows(html)
    assert len(listed) == 50
    assert "Message 55" in listed[0] and "Message 6<" in listed[-1]
    assert "Message 5<" not in html, "older than the first page"
    assert "Loading older messages…" in html
    assert 'hx-trigger="every 2s"' in html
    assert """hx-headers='{"X-Background-Poll": "1"}'""" in html, "polling does not keep the session alive"
    assert published == [("webmail.tasks.sync_folder", str(reader.pk), inbox.pk)]

    by_subject = {re.search(r"Message \d+", row).group(): row for row in listed}
    assert 'class="unread flagged"' in by_subject["Message 55"] and 'alt="Flagged"' in by_subject["Message 55"]
    assert 'class=""' in by_subject["Message 52"], "read: not bold"
    assert 'class="unread"' in by_subject["Message 50"]
    assert "Sender 50" in by_subject["Message 50"]
    assert "10:50" in by_subject["Message 50"] or "11/02/2026" in by_subject["Message 50"]

    tasks.sync_folder(str(reader.pk), inbox.pk)  # what the worker does
    started = re.search(r"t=(\d+)", html).group(1)
    poll = reader_client.get(folder_url(inbox, page=1, t=started), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in poll.content.decode(), "polling stops once the folder is complete"
    assert "Loading older" not in poll.content.decode()
    assert "<html" not in poll.content.decode(), "htmx gets the list only"

    second = reader_client.get(folder_url(inbox, page=2)).content.decode()
    assert [re.search(r"Message \d+", row).group() for row in rows(second)] == [f"Message {n}" for n in range(5, 0, -1)]
    assert "Page 2 of 2" in second


def test_an_opened_folder_shows_the_cache_at_once_and_refreshes_behind_it(reader, reader_client, dovecot, published):
    dovecot.deliver(reader.user.email, make_message(1))
    inbox = inbox_of(reader_client, reader)
    reader_client.get(folder_url(inbox))
    published.clear()
    dovecot.deliver(reader.user.email, make_message(2))

    html = reader_client.get(folder_url(inbox)).content.decode()
    assert "Message 1" in html and "Message 2" not in html, "the cache, at once"
    assert "Refreshing…" in html and 'hx-trigger="every 2s"' in html
    assert published == [("webmail.tasks.sync_folder", str(reader.pk), inbox.pk)]

    started = re.search(r"t=(\d+)", html).group(1)
    tasks.sync_folder(str(reader.pk), inbox.pk)
    poll = reader_client.get(folder_url(inbox, page=1, t=started), HTTP_HX_REQUEST="true").content.decode()
    assert "Message 2" in poll
    assert "Refreshing" not in poll and "hx-trigger" not in poll


def test_the_sidebar_lists_special_folders_first_then_the_tree(reader, reader_client, dovecot):
    client = dovecot.login(reader.user.email)
    for name in ("Zeta", "Alpha", "Alpha/Child", "Alpha Beta"):
        client.create_folder(name)
    client.logout()
    dovecot.deliver(reader.user.email, make_message(1))
    inbox = inbox_of(reader_client, reader)
    html = reader_client.get(folder_url(inbox)).content.decode()
    sidebar = html[html.index('class="plain folder-list"') : html.index("Manage folders")]
    names = re.findall(r'<span class="folder-name">([^<]+)</span>', sidebar)
    assert names == ["Inbox", "Drafts", "Sent", "Junk", "Trash", "Archive", "Alpha", "Child", "Alpha Beta", "Zeta"]
    assert re.search(r'class="indent-1">\s*<a[^>]*>\s*<img[^>]*>\s*<span class="folder-name">Child', sidebar)
    assert re.search(r'folder-name">Inbox</span>\s*<span class="count"[^>]*>1</span>', sidebar)
    assert "img/mail/trash.svg" in sidebar


# -- who may see what -------------------------------------------------------------------------


def test_a_stranger_gets_404_for_everything_of_another_user(reader, reader_client, dovecot):
    raw = attachment_message()
    dovecot.deliver(reader.user.email, raw)
    inbox = inbox_of(reader_client, reader)
    reader_client.get(folder_url(inbox))
    summary = inbox.messages.get()
    stranger = sign_in(Client(), UserFactory(email="nosy@example.test"))
    urls = [
        folder_url(inbox),
        reverse("mailbox:message", args=[inbox.pk, summary.uid]),
        reverse("mailbox:body", args=[inbox.pk, summary.uid]),
        reverse("mailbox:part", args=[inbox.pk, summary.uid, 2]),
        reverse("mailbox:cid", args=[inbox.pk, summary.uid, "logo@example.test"]),
        reverse("mailbox:thread", args=[inbox.pk, summary.pk]),
        reverse("mailbox:search", args=[inbox.pk]) + "?q=x",
        reverse("mailbox:account", args=[reader.pk]),
        reverse("mailbox:folders", args=[reader.pk]),
    ]
    for url in urls:
        assert stranger.get(url).status_code == 404, url
    for url in (
        reverse("mailbox:bulk", args=[inbox.pk]),
        reverse("mailbox:folder_rename", args=[inbox.pk]),
        reverse("mailbox:folder_delete", args=[inbox.pk]),
        reverse("mailbox:folder_create", args=[reader.pk]),
    ):
        assert stranger.post(url, {"action": "read", "uid": summary.uid, "name": "x"}).status_code == 404, url
    assert b"\\Seen" not in server_flags(dovecot, reader.user.email)[summary.uid], "nothing was touched"


def test_an_anonymous_visitor_is_sent_to_the_login(reader):
    response = Client().get(reverse("mailbox:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# -- actions ----------------------------------------------------------------------------------


@pytest.fixture
def three(reader, reader_client, dovecot) -> tuple[Folder, list[int]]:
    uids = deliver_all(dovecot, reader.user.email, [make_message(n) for n in (1, 2, 3)])
    inbox = inbox_of(reader_client, reader)
    reader_client.get(folder_url(inbox))
    return inbox, uids


def cached(folder: Folder, uid: int) -> MessageSummary:
    return MessageSummary.objects.get(folder=folder, uid=uid)


def test_marking_read_unread_flagged_changes_the_server_then_the_cache(reader, reader_client, dovecot, three):
    inbox, (one, two, three_) = three
    response = bulk(reader_client, inbox, "read", [one, two], next=folder_url(inbox, page=1))
    assert response.status_code == 302 and response["Location"] == folder_url(inbox, page=1)
    flags = server_flags(dovecot, reader.user.email)
    assert b"\\Seen" in flags[one] and b"\\Seen" in flags[two] and b"\\Seen" not in flags[three_]
    assert cached(inbox, one).seen and not cached(inbox, three_).seen
    assert Folder.objects.get(pk=inbox.pk).unread == 1

    bulk(reader_client, inbox, "unread", [one])
    assert b"\\Seen" not in server_flags(dovecot, reader.user.email)[one]
    assert not cached(inbox, one).seen

    bulk(reader_client, inbox, "flag", [two, three_])
    flags = server_flags(dovecot, reader.user.email)
    assert b"\\Flagged" in flags[two] and b"\\Flagged" in flags[three_]
    assert cached(inbox, two).flagged
    bulk(reader_client, inbox, "unflag", [two])
    assert b"\\Flagged" not in server_flags(dovecot, reader.user.email)[two]
    assert not cached(inbox, two).flagged and cached(inbox, three_).flagged

    page = reader_client.get(folder_url(inbox)).content.decode()
    assert "2 messages flagged." in page or "1 message unflagged." in page


def test_moving_to_a_folder_moves_on_the_server_and_in_the_cache(reader, reader_client, dovecot, three, published):
    inbox, (one, two, three_) = three
    archive = folder_named(reader, "Archive")
    sync_account(reader, ["Archive"])  # opened before: the move shows there at once
    bulk(reader_client, inbox, "move", [one, two], target=archive.pk)
    assert server_subjects(dovecot, reader.user.email, "INBOX") == ["Message 3"]
    assert server_subjects(dovecot, reader.user.email, "Archive") == ["Message 1", "Message 2"]
    assert list(inbox.messages.values_list("uid", flat=True)) == [three_]
    assert sorted(archive.messages.values_list("subject", flat=True)) == ["Message 1", "Message 2"]
    assert Folder.objects.get(pk=inbox.pk).total == 1
    assert "2 messages moved to Archive." in reader_client.get(folder_url(inbox)).content.decode()


def test_delete_moves_to_trash_and_deleting_in_trash_expunges(reader, reader_client, dovecot, three, published):
    inbox, (one, _two, _three) = three
    bulk(reader_client, inbox, "delete", [one])
    assert server_subjects(dovecot, reader.user.email, "Trash") == ["Message 1"]
    assert "Message 1" not in server_subjects(dovecot, reader.user.email, "INBOX")
    assert not inbox.messages.filter(uid=one).exists()
    trash = folder_named(reader, "Trash")
    assert ("webmail.tasks.sync_folder", str(reader.pk), trash.pk) in published, "the Trash was never opened"

    reader_client.get(folder_url(trash))
    trashed = trash.messages.get().uid
    bulk(reader_client, trash, "delete", [trashed])
    assert server_subjects(dovecot, reader.user.email, "Trash") == []
    assert not trash.messages.exists()
    assert "1 message deleted for good." in reader_client.get(folder_url(trash)).content.decode()


def test_junk_moves_to_the_junk_folder_and_back(reader, reader_client, dovecot, three):
    inbox, (one, _two, _three) = three
    bulk(reader_client, inbox, "junk", [one])
    assert server_subjects(dovecot, reader.user.email, "Junk") == ["Message 1"]
    junk = folder_named(reader, "Junk")
    reader_client.get(folder_url(junk))
    bulk(reader_client, junk, "notjunk", [junk.messages.get().uid])
    assert server_subjects(dovecot, reader.user.email, "Junk") == []
    assert "Message 1" in server_subjects(dovecot, reader.user.email, "INBOX")
    assert inbox.messages.filter(subject="Message 1").exists(), "the Inbox was refreshed after the move"


def test_a_bad_selection_is_refused_and_a_move_needs_a_target(reader, reader_client, three):
    inbox, (one, _two, _three) = three
    assert bulk(reader_client, inbox, "explode", [one]).status_code == 400
    assert bulk(reader_client, inbox, "read", ["1:*"]).status_code == 400
    assert bulk(reader_client, inbox, "read", ["0"]).status_code == 400
    assert bulk(reader_client, inbox, "read", [str(2**32)]).status_code == 400
    assert bulk(reader_client, inbox, "move", [one], target=inbox.pk).status_code == 302
    assert "already in INBOX" in reader_client.get(folder_url(inbox)).content.decode()
    bulk(reader_client, inbox, "read", [])
    assert "Select at least one message first." in reader_client.get(folder_url(inbox)).content.decode()


def test_when_the_server_fails_the_cache_keeps_what_the_server_has(reader, reader_client, three, closed_port):
    inbox, (one, _two, _three) = three
    reader.imap_port, reader.imap_security = closed_port, Security.NONE
    reader.save()
    response = bulk(reader_client, inbox, "read", [one])
    assert response.status_code == 302
    assert not cached(inbox, one).seen
    page = reader_client.get(folder_url(inbox))
    assert page.status_code == 200, "a cached folder shows without the server"
    assert "The mail server did not answer: connection refused" in page.content.decode()


# -- the reading pane -------------------------------------------------------------------------


def html_message() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Example <ann@example.test>"
    message["To"] = "Rita Reader <rita@example.test>"
    message["Cc"] = "Carl <carl@example.test>"
    message["Reply-To"] = "replies@example.test"
    message["Subject"] = "Hello in HTML"
    message["Date"] = "Mon, 2 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = "<html@example.test>"
    message.set_content("plain version")
    message.add_alternative(
        '<p style="color: red">Hi <b>there</b></p><script>alert(1)</script>'
        '<img src="x" onerror="alert(2)"><img src="https://tracker.example/p.gif">'
        '<img src="cid:logo@example.test"><a href="javascript:alert(3)">x</a>',
        subtype="html",
    )
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<logo@example.test>")
    return message.as_bytes()


def attachment_message() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Example <ann@example.test>"
    message["To"] = "rita@example.test"
    message["Subject"] = "Files"
    message["Date"] = "Mon, 2 Nov 2026 10:00:00 +0000"
    message.set_content("See attached.")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="page.html")
    message.add_attachment(b"<svg onload='alert(1)'/>", maintype="image", subtype="svg+xml", filename="pic.svg")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="Rapport d\u2019été.pdf")
    return message.as_bytes()


def open_message(client: Client, reader, dovecot, raw: bytes):
    uid = dovecot.deliver(reader.user.email, raw)
    inbox = inbox_of(client, reader)
    client.get(folder_url(inbox))
    return inbox, uid, client.get(reverse("mailbox:message", args=[inbox.pk, uid]))


def test_reading_a_message_marks_it_seen_on_the_server_and_shows_its_headers(reader, reader_client, dovecot):
    inbox, uid, response = open_message(reader_client, reader, dovecot, html_message())
    assert response.status_code == 200
    html = response.content.decode()
    assert b"\\Seen" in server_flags(dovecot, reader.user.email)[uid]
    assert cached(inbox, uid).seen and Folder.objects.get(pk=inbox.pk).unread == 0
    assert "<strong>Ann Example</strong>" in html and "&lt;ann@example.test&gt;" in html
    assert "Carl &lt;carl@example.test&gt;" in html and "replies@example.test" in html
    assert "Nov. 2, 2026" in html or "2026" in html
    iframe = re.search(r"<iframe[^>]*>", html, re.S).group()
    # Same origin, so that the page can measure the text's height; never scripts as well.
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in iframe
    assert "allow-scripts" not in iframe
    assert 'referrerpolicy="no-referrer"' in iframe
    assert f'src="{reverse("mailbox:body", args=[inbox.pk, uid])}"' in iframe
    assert "Show remote images" in html
    assert "alert(" not in html, "mail content never reaches the page itself"


def test_the_body_document_is_sanitized_under_a_strict_policy(reader, reader_client, dovecot):
    inbox, uid, _ = open_message(reader_client, reader, dovecot, html_message())
    response = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script" not in body and "onerror" not in body and "javascript:" not in body
    assert "tracker.example" not in body
    assert '<meta charset="utf-8">' in body and "css/mail-body.css" in body
    policy = dict(
        [*part.split(" ", 1), ""][:2] for part in (p.strip() for p in response["Content-Security-Policy"].split(";"))
    )
    cid_prefix = f"http://testserver{reverse('mailbox:message', args=[inbox.pk, uid])}cid/"
    assert policy["default-src"] == "'none'"
    assert policy["img-src"].split() == ["data:", cid_prefix]
    assert set(policy["style-src"].split()) == {"http://testserver/static/css/mail-body.css", "'unsafe-inline'"}
    assert policy["frame-ancestors"] == "'self'"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"
    assert policy["sandbox"] == "allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    assert "script-src" not in policy and "allow-scripts" not in policy["sandbox"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "color: red" in body, "inline styles survive, filtered"

    with_images = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid]) + "?images=1")
    assert "https://tracker.example/p.gif" in with_images.content.decode()
    assert "https: http:" in with_images["Content-Security-Policy"]


def test_inline_images_load_with_a_token_the_sandboxed_frame_can_carry(reader, reader_client, dovecot):
    inbox, uid, _ = open_message(reader_client, reader, dovecot, html_message())
    body = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid])).content.decode()
    src = re.search(r'<img src="([^"]*/cid/[^"]*)"', body).group(1).replace("&amp;", "&")
    assert src.startswith(reverse("mailbox:cid", args=[inbox.pk, uid, "logo@example.test"]))

    # The frame's opaque origin makes the browser send no SameSite cookie: the token carries it.
    anonymous = Client()
    image = anonymous.get(src)
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content == PNG
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Disposition"].startswith("inline")
    bare = src.split("?")[0]
    assert anonymous.get(bare).status_code == 302, "no token, no session: to the login page"
    assert anonymous.get(bare + "?t=1:forged").status_code == 404
    assert reader_client.get(bare).status_code == 200, "the owner's own session is enough"
    other = Folder.objects.get(account=reader, name="Sent")
    assert anonymous.get(src.replace(f"/mail/{inbox.pk}/", f"/mail/{other.pk}/")).status_code == 404


def test_downloads_are_attachments_and_only_raster_images_show_inline(reader, reader_client, dovecot):
    inbox, uid, response = open_message(reader_client, reader, dovecot, attachment_message())
    html = response.content.decode()
    for name in ("page.html", "pic.svg", "photo.png", "Rapport d\u2019été.pdf"):
        assert name in html
    assert "text/html" in html and "image/svg+xml" in html
    indexes = {name: int(index) for index, name in re.findall(r'/part/(\d+)/" download>([^<]+)</a>', html)}

    def get(name: str, query: str = ""):
        return reader_client.get(reverse("mailbox:part", args=[inbox.pk, uid, indexes[name]]) + query)

    for name in ("page.html", "pic.svg"):
        for query in ("", "?inline=1"):
            download = get(name, query)
            assert download["Content-Type"] == "application/octet-stream", (name, query)
            assert download["Content-Disposition"] == f'attachment; filename="{name}"'
            assert download["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" in get("page.html").content, "the file itself is unchanged"

    png = get("photo.png")
    assert png["Content-Type"] == "application/octet-stream" and png["Content-Disposition"].startswith("attachment")
    shown = get("photo.png", "?inline=1")
    assert shown["Content-Type"] == "image/png" and shown.content == PNG
    assert shown["Content-Disposition"] == 'inline; filename="photo.png"'
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown["Content-Security-Policy"]

    pdf = get("Rapport d\u2019été.pdf")
    assert pdf["Content-Disposition"] == "attachment; filename*=utf-8''Rapport%20d%E2%80%99%C3%A9t%C3%A9.pdf"
    assert reader_client.get(reverse("mailbox:part", args=[inbox.pk, uid, 99])).status_code == 404


BROKEN = {
    "broken MIME": (
        b"From: a@example.test\r\nSubject: broken mime\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhalf a part'
    ),
    "unknown charset": (
        b"From: a@example.test\r\nSubject: =?x-unknown?q?odd?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
        b"caf\xe9 au lait\r\n"
    ),
    "missing date": b"From: a@example.test\r\nSubject: no date here\r\n\r\nhello\r\n",
    "8-bit headers": (
        b"From: J\xc3\xbcrgen <j@example.test>\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\n"
        b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nhallo\r\n"
    ),
    "html without text": (
        b"From: a@example.test\r\nSubject: only html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<table><tr><td>cell<td><div><p>unclosed"
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_mail_still_renders(reader, reader_client, dovecot, case):
    inbox, uid, response = open_message(reader_client, reader, dovecot, BROKEN[case])
    assert response.status_code == 200, case
    body = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid]))
    assert body.status_code == 200
    if case == "missing date":
        assert re.search(r'<dd class="date">\s*no date\s*</dd>', response.content.decode())
    if case == "8-bit headers":
        assert "Jürgen" in response.content.decode()


def test_a_huge_body_is_cut_with_a_note(reader, reader_client, dovecot):
    raw = (
        b"From: a@example.test\r\nSubject: huge\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + b"All work and no play makes a long message.\r\n" * 75_000
    )
    assert len(raw) > 3_000_000
    inbox, uid, response = open_message(reader_client, reader, dovecot, raw)
    assert response.status_code == 200
    assert "too large to show in full" in response.content.decode()
    body = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid]))
    assert body.status_code == 200 and len(body.content) < 3_000_000


def test_a_message_gone_from_the_server_is_404(reader, reader_client, dovecot):
    inbox, uid, _ = open_message(reader_client, reader, dovecot, make_message(1))
    assert reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid + 100])).status_code == 404
    assert reader_client.get(reverse("mailbox:message", args=[inbox.pk, 0])).status_code == 404
    # A UID no server can have (over 2**32-1) is refused here, not sent to the server.
    for name in ("message", "body"):
        assert reader_client.get(reverse(f"mailbox:{name}", args=[inbox.pk, 2**32])).status_code == 404


# -- a dead server ----------------------------------------------------------------------------


def test_a_dead_server_shows_a_banner_with_status_502(db, published, closed_port):
    user = UserFactory(email="dead@example.test")
    account = MailAccountFactory(user=user, imap_host="127.0.0.1", imap_port=closed_port, imap_security=Security.NONE)
    client = sign_in(Client(), user)
    response = client.get(reverse("mailbox:index"))
    assert response.status_code == 502
    assert "The mail server did not answer: connection refused" in response.content.decode()
    assert 'role="alert"' in response.content.decode()

    inbox = Folder.objects.create(account=account, name="INBOX", special_use="inbox", delimiter="/")
    response = client.get(folder_url(inbox))
    assert response.status_code == 502, "never synced: the page needed the server"
    assert "The mail server did not answer: connection refused" in response.content.decode()
    assert published == [], "nothing to publish when even the first page could not load"
    Folder.objects.filter(pk=inbox.pk).update(synced_at=timezone.now())  # searching needs a synced folder
    for url in (
        reverse("mailbox:message", args=[inbox.pk, 1]),
        reverse("mailbox:search", args=[inbox.pk]) + "?q=x",
        reverse("mailbox:folders", args=[account.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 502, url
        assert "did not answer" in response.content.decode()
    body = client.get(reverse("mailbox:body", args=[inbox.pk, 1]))
    assert body.status_code == 502 and "did not answer" in body.content.decode()
    assert "default-src 'none'" in body["Content-Security-Policy"]


def test_a_spoofed_display_name_warns_above_the_message(reader_client, reader, dovecot):
    raw = (
        b'From: "ceo@team.test" <attacker@evil.test>\r\nTo: rita@example.test\r\n'
        b"Subject: Urgent wire transfer\r\nMessage-ID: <spoof@evil.test>\r\n\r\nPay now.\r\n"
    )
    uid = dovecot.deliver(reader.user.email, raw)
    sync_account(reader, ["INBOX"])
    inbox = Folder.objects.get(account=reader, name="INBOX")
    response = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid]))
    assert response.status_code == 200
    assert b"sender-warning" in response.content
    assert b"ceo@team.test" in response.content


def test_a_page_whose_sync_was_folded_into_a_finished_one_stops_refreshing(reader, reader_client, dovecot, published):
    dovecot.deliver(reader.user.email, make_message(1))
    inbox = inbox_of(reader_client, reader)
    reader_client.get(folder_url(inbox))  # the first opening reads the folder itself
    reader_client.get(folder_url(inbox))  # the second asks for a sync
    assert len(published) == 1
    tasks.sync_folder(str(reader.pk), inbox.pk)  # which a worker finishes at once
    published.clear()
    time.sleep(0.01)

    # Opened again within the dedup window: no new sync is published, and the one that was
    # is done, so the page has nothing to wait for.
    html = reader_client.get(folder_url(inbox)).content.decode()
    assert published == []
    assert "Refreshing" not in html and "hx-trigger" not in html
