"""Remote images "always for this sender", in Chromium: the choice loads the images of that
sender's mail at once, and taking it back blocks them again."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from webmail.mailbox.models import Folder, RemoteImagesAllowed


def wait_for_hit(page, server, path: str) -> bool:
    for _ in range(100):
        if path in server.hits:
            return True
        page.wait_for_timeout(100)
    return False


def test_always_show_images_from_a_sender_then_stop(page, live_server, reader, dovecot, attacker):
    raw = (
        "From: Ann Example <ann@example.test>\r\nTo: rita@example.test\r\nSubject: Newsletter\r\n"
        "Date: Mon, 2 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f'<p>News</p><img src="{attacker.origin}/pixel.gif" alt="pixel">\r\n'
    ).encode()
    uid = dovecot.deliver(reader.user.email, raw)
    sign_in_browser(page, live_server, reader.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    inbox = Folder.objects.get(account=reader, name="INBOX")
    message_url = reverse("mailbox:message", args=[inbox.pk, uid])

    page.goto(message_url)
    page.frame(name="message-body").wait_for_load_state("load")
    assert not attacker.hits

    page.get_by_role("button", name="Always show images from ann@example.test").click()
    assert wait_for_hit(page, attacker, "/pixel.gif"), "the sender's images load once allowed"
    expect(page.get_by_text("Remote images from ann@example.test are always shown.")).to_be_visible()
    assert list(RemoteImagesAllowed.objects.values_list("address", flat=True)) == ["ann@example.test"]

    page.get_by_role("button", name="Stop showing images from this sender").click()
    expect(page.get_by_role("button", name="Always show images from ann@example.test")).to_be_visible()
    attacker.hits.clear()
    page.goto(message_url)
    page.frame(name="message-body").wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert not attacker.hits, "blocked again once taken back"
    assert not RemoteImagesAllowed.objects.exists()
