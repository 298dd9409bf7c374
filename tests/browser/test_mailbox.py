"""The mailbox in Chromium: the daily journey, and hostile mail that must stay inert."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import PIXEL, sign_in_browser
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, server_flags, server_subjects
from webmail.mailbox import sync, tasks
from webmail.mailbox.models import Folder

WEBMAIL_TESTS = Path(__file__).parent.parent / "webmail"
HOSTILE_TEMPLATES = sorted((WEBMAIL_TESTS / "hostile_eml").glob("*.eml"))
HOSTILE_CORPUS = sorted((WEBMAIL_TESTS / "hostile").glob("*.eml"))
HOSTILE_HTML = sorted((WEBMAIL_TESTS / "hostile").glob("*.html"))
# The corpus names these hosts; they are pointed at the loopback attacker too.
_CORPUS_HOSTS = re.compile(rb"(?:https?:)?//(?:[a-z0-9-]+\.)*(?:example|example\.com|evil\.com)(?::\d+)?", re.I)
_BASE64_BLOCK = re.compile(rb"BASE64-BEGIN\r?\n(.*?)\r?\nBASE64-END", re.S)


def materialize(template: bytes, origin: str) -> bytes:
    raw = template.replace(b"ATTACKER", origin.encode())
    return _BASE64_BLOCK.sub(lambda m: base64.encodebytes(m.group(1)).replace(b"\n", b"\r\n").rstrip(), raw)


def corpus_message(path: Path, origin: str) -> bytes:
    data = _CORPUS_HOSTS.sub(origin.encode(), path.read_bytes())
    if path.suffix == ".eml":
        return data
    headers = (
        f"From: Corpus <corpus@evil.example>\r\nTo: victim@example.test\r\nSubject: corpus {path.stem}\r\n"
        "Date: Mon, 2 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    )
    return headers.encode() + data


def outside_requests(page, live_server) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith((live_server.url, "data:", "about:")) else seen.append(request.url)
        ),
    )
    return seen


# -- the daily journey ------------------------------------------------------------------------


def test_open_a_folder_read_a_conversation_mark_unread_move_and_search(page, live_server, reader, dovecot, published):
    address = reader.user.email
    dovecot.deliver(address, make_message(1, subject="Plan", message_id="<plan@example.test>"))
    reply = (
        f"From: Rita Reader <{address}>\r\nTo: sender1@example.test\r\nSubject: Re: Plan\r\n"
        "Date: Mon, 2 Nov 2026 11:00:00 +0000\r\nMessage-ID: <reply@example.test>\r\n"
        "In-Reply-To: <plan@example.test>\r\nReferences: <plan@example.test>\r\n\r\nLet us do it.\r\n"
    ).encode()
    dovecot.deliver(address, reply, folder="Sent", flags=["\\Seen"])
    deliver_all(dovecot, address, [make_message(n, subject=f"Note {n}") for n in (2, 3)])
    sign_in_browser(page, live_server, reader.user)

    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    assert page.get_by_role("heading", name="Inbox").is_visible()
    assert page.locator(".message-table tbody tr").count() == 3
    assert page.locator("tr.unread").count() == 3

    # Read one: the body shows in the sandboxed frame, and it is marked read.
    page.get_by_role("link", name="Plan", exact=True).click()
    page.wait_for_url(re.compile(r"/mail/\d+/\d+/$"))
    assert page.get_by_role("heading", name="Plan").is_visible()
    frame = page.frame_locator("iframe[name=message-body]")
    assert frame.get_by_text("Body of message 1.").is_visible()
    inbox = Folder.objects.get(account=reader, name="INBOX")
    plan = inbox.messages.get(subject="Plan")
    assert b"\\Seen" in server_flags(dovecot, address)[plan.uid]

    # The conversation includes the reply from Sent. (Sent was never opened: sync it first.)
    page.goto(reverse("mailbox:folder", args=[Folder.objects.get(account=reader, name="Sent").pk]))
    page.goto(reverse("mailbox:message", args=[inbox.pk, plan.uid]))
    page.get_by_role("link", name=re.compile(r"Conversation \(2 messages\)")).click()
    articles = page.locator("article.thread-message")
    assert articles.count() == 2
    assert articles.nth(1).get_by_text("Rita Reader").is_visible()
    assert articles.nth(1).locator(".badge").inner_text() == "Sent"
    assert page.frame_locator("article.thread-message >> nth=1 >> iframe").get_by_text("Let us do it.").is_visible()

    # Mark it unread again from the reading pane.
    page.goto(reverse("mailbox:message", args=[inbox.pk, plan.uid]))
    page.get_by_role("button", name="Mark unread").click()
    page.wait_for_url(re.compile(rf"/mail/{inbox.pk}/$"))
    assert page.get_by_text("1 message marked as unread.").is_visible()
    assert page.locator("tr.unread", has_text="Plan").count() == 1
    assert b"\\Seen" not in server_flags(dovecot, address)[plan.uid]

    # Select all, then move one message to Archive.
    page.get_by_label("All", exact=True).check()
    assert page.locator("input[name=uid]:checked").count() == 3
    page.get_by_label("All", exact=True).uncheck()
    page.get_by_label("Select “Note 2”").check()
    page.get_by_label("Move to").select_option(label="Archive")
    page.get_by_role("button", name="Move", exact=True).click()
    assert page.get_by_text("1 message moved to Archive.").is_visible()
    assert page.locator(".message-table tbody tr").count() == 2
    assert server_subjects(dovecot, address, "Archive") == ["Note 2"]
    page.get_by_role("link", name="Archive").click()
    assert page.get_by_role("link", name="Note 2", exact=True).is_visible()

    # Search every folder.
    page.get_by_label("Search mail").fill("Note")
    page.get_by_label("Where").select_option("all")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/search/\?"))
    assert page.get_by_text("2 messages found").is_visible()
    assert page.locator("td.in-folder").all_inner_texts() == ["INBOX", "Archive"]


def test_the_list_fills_in_while_the_page_polls_and_keeps_the_selection(
    page, live_server, reader, dovecot, published, monkeypatch
):
    monkeypatch.setattr(sync, "HEAD_SIZE", 3)
    deliver_all(dovecot, reader.user.email, [make_message(n) for n in range(1, 9)])
    sign_in_browser(page, live_server, reader.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    assert page.get_by_text("Loading older messages…").is_visible()
    assert page.locator(".message-table tbody tr").count() == 3
    page.get_by_label("Select “Message 8”").check()

    inbox = Folder.objects.get(account=reader, name="INBOX")
    tasks.sync_folder(str(reader.pk), inbox.pk)  # the worker's part
    expect(page.get_by_text("Loading older messages…")).to_be_hidden(timeout=5000)
    assert page.locator(".message-table tbody tr").count() == 8
    assert page.get_by_label("Select “Message 8”").is_checked(), "a poll does not drop the selection"
    assert page.locator("#message-list[hx-get]").count() == 0, "polling stopped"


# -- hostile mail -----------------------------------------------------------------------------


def hostile_messages(origin: str) -> list[tuple[str, bytes]]:
    messages = [(path.name, materialize(path.read_bytes(), origin)) for path in HOSTILE_TEMPLATES]
    messages += [(f"corpus/{path.name}", corpus_message(path, origin)) for path in HOSTILE_CORPUS + HOSTILE_HTML]
    return messages


def test_hostile_mail_stays_inert_in_the_reading_pane(page, live_server, reader, dovecot, attacker):
    assert len(HOSTILE_TEMPLATES) >= 8
    messages = hostile_messages(attacker.origin)
    uids = deliver_all(dovecot, reader.user.email, [raw for _name, raw in messages])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    outside = outside_requests(page, live_server)
    sign_in_browser(page, live_server, reader.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    inbox = Folder.objects.get(account=reader, name="INBOX")

    for (name, _raw), uid in zip(messages, uids, strict=True):
        with page.expect_response(re.compile(rf"/mail/{inbox.pk}/{uid}/body/")) as body:
            page.goto(reverse("mailbox:message", args=[inbox.pk, uid]))
        assert body.value.status == 200, name
        page.frame(name="message-body").wait_for_load_state("load")
        assert not dialogs, f"{name}: a dialog fired: {dialogs}"
        assert not page.console_errors, f"{name}: console errors: {page.console_errors}"
        assert not attacker.hits, f"{name}: reached the attacker: {attacker.hits}"
        assert not outside, f"{name}: requests left the site: {outside}"

    # The instrument works: asking for remote images reaches the "attacker" at once.
    tracker = materialize((WEBMAIL_TESTS / "hostile_eml" / "09_remote_images.eml").read_bytes(), attacker.origin)
    uid = dovecot.deliver(reader.user.email, tracker)
    page.goto(reverse("mailbox:message", args=[inbox.pk, uid]))
    assert not attacker.hits
    page.get_by_role("link", name="Show remote images").click()
    # The click reloads the page and then its frame; wait for the image request itself.
    for _ in range(100):
        if "/pixel.gif" in attacker.hits:
            break
        page.wait_for_timeout(100)
    assert "/pixel.gif" in attacker.hits
    assert all(hit in ("/pixel.gif", "/pixel2.gif", "/picture.png") for hit in attacker.hits), attacker.hits
    outside.clear()


def test_an_inline_image_shows_inside_the_sandboxed_frame(page, live_server, reader, dovecot):
    message = EmailMessage()
    message["From"] = "Ann <ann@example.test>"
    message["To"] = reader.user.email
    message["Subject"] = "Logo"
    message.set_content("text")
    message.add_alternative('<p>Our logo:</p><img alt="logo" src="cid:logo@example.test">', subtype="html")
    message.get_payload()[1].add_related(PIXEL, "image", "png", cid="<logo@example.test>")
    uid = dovecot.deliver(reader.user.email, message.as_bytes())
    sign_in_browser(page, live_server, reader.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    inbox = Folder.objects.get(account=reader, name="INBOX")
    with page.expect_response(re.compile(r"/cid/logo@example\.test/")) as image:
        page.goto(reverse("mailbox:message", args=[inbox.pk, uid]))
    assert image.value.status == 200
    assert image.value.headers["content-type"] == "image/png"
    assert page.frame_locator("iframe[name=message-body]").get_by_role("img", name="logo").is_visible()
