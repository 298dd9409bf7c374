"""The small tools in Chromium: moving by drag and drop, the open folder's count on the tab,
the print page, the source, empty Trash and mark all read from the buttons."""

from __future__ import annotations

import re
import time
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, folder_named, server_flags, server_subjects, sync_account


def open_folder(page, live_server, reader, name: str = "INBOX"):
    sign_in_browser(page, live_server, reader.user)
    folder = folder_named(reader, name)
    page.goto(reverse("mailbox:folder", args=[folder.pk]))
    return folder


def test_rows_dragged_onto_a_folder_move_there(page, live_server, reader, dovecot, published):
    address = reader.user.email
    deliver_all(dovecot, address, [make_message(n) for n in (1, 2, 3, 4)])
    sync_account(reader)
    open_folder(page, live_server, reader)
    archive = page.locator(".folder-list a", has_text="Archive")

    # One row, not selected: that row alone.
    page.locator("tr", has_text="Message 1").locator("td.who").drag_to(archive)
    expect(page.get_by_text("1 message moved to Archive.")).to_be_visible()
    assert server_subjects(dovecot, address, "Archive") == ["Message 1"]

    # A selected row: every selected row, dragged by its subject link too.
    page.get_by_label("Select “Message 2”").check()
    page.get_by_label("Select “Message 3”").check()
    page.get_by_role("link", name="Message 3", exact=True).drag_to(archive)
    expect(page.get_by_text("2 messages moved to Archive.")).to_be_visible()
    assert server_subjects(dovecot, address, "Archive") == ["Message 1", "Message 2", "Message 3"]
    assert server_subjects(dovecot, address) == ["Message 4"]
    assert page.locator(".message-table tbody tr").count() == 1

    # The open folder is no target: nothing happens.
    page.locator("tr", has_text="Message 4").locator("td.who").drag_to(page.locator(".folder-list a[aria-current]"))
    assert server_subjects(dovecot, address) == ["Message 4"]


def favicon(page) -> str:
    return page.evaluate("document.querySelector('link[rel=icon]').href")


def wait_for(page, script: str, timeout: float = 10.0):
    """page.evaluate(script) until it is truthy (wait_for_function is blocked by the CSP)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never true: {script}")


def test_the_open_folder_s_unread_count_is_in_the_title_and_on_the_icon(page, live_server, reader, dovecot, published):
    address = reader.user.email
    deliver_all(dovecot, address, [make_message(n) for n in (1, 2, 3)])
    deliver_all(dovecot, address, [make_message(n) for n in (4, 5)], folder="Archive")
    sync_account(reader)
    open_folder(page, live_server, reader)
    expect(page).to_have_title(re.compile(r"^\(3\) Inbox"))
    assert wait_for(page, "document.querySelector('link[rel=icon]').href.startsWith('data:image/png')")
    inbox_icon = favicon(page)

    # A message of another folder: that folder's count (reading it left one unread there).
    archive = folder_named(reader, "Archive")
    page.goto(reverse("mailbox:message", args=[archive.pk, archive.messages.get(subject="Message 4").uid]))
    expect(page).to_have_title(re.compile(r"^\(1\) Message 4"))
    assert wait_for(page, "document.querySelector('link[rel=icon]').href.startsWith('data:image/png')")
    assert favicon(page) != inbox_icon, "another number"

    page.goto(reverse("mailbox:folder", args=[folder_named(reader, "INBOX").pk]))
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("3 messages marked as read.")).to_be_visible()
    assert all(b"\\Seen" in flags for flags in server_flags(dovecot, address).values())
    expect(page).to_have_title(re.compile(r"^Inbox"))
    assert wait_for(page, "document.querySelector('link[rel=icon]').href.endsWith('/favicon.svg')")


def test_print_source_and_download_from_the_reading_pane(page, live_server, reader, dovecot, published):
    address = reader.user.email
    raw = (
        b"From: Ann <ann@example.test>\r\nTo: rita@example.test\r\nSubject: Printable\r\n"
        b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<p style="color: red">Print <b>me</b></p><script>window.evil = 1</script>\r\n'
    )
    uid = dovecot.deliver(address, raw)
    sync_account(reader)
    inbox = open_folder(page, live_server, reader)
    page.goto(reverse("mailbox:message", args=[inbox.pk, uid]))

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Print").click()
    printed = opened.value
    printed.console_errors = page.console_errors
    printed.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    printed.wait_for_load_state("load")
    expect(printed.locator(".print-body b")).to_have_text("me")
    expect(printed.locator(".print-headers")).to_contain_text("Ann <ann@example.test>")
    assert printed.evaluate("window.evil") is None
    assert printed.evaluate("matchMedia('print').matches") is False
    printed.emulate_media(media="print")
    expect(printed.get_by_role("button", name="Print")).to_be_hidden()
    printed.close()

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="View source").click()
    source = opened.value
    source.wait_for_load_state()
    text = source.locator("body").inner_text()
    assert text.startswith("From: Ann <ann@example.test>") and "<script>window.evil = 1</script>" in text
    assert source.locator("b").count() == 0, "shown as text, never as HTML"
    source.close()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download (.eml)").click()
    assert download.value.suggested_filename == "Printable.eml"
    assert Path(download.value.path()).read_bytes() == dovecot.mailbox_messages(address)[0]


def test_empty_trash_asks_then_empties_it(page, live_server, reader, dovecot, published):
    address = reader.user.email
    deliver_all(dovecot, address, [make_message(n) for n in range(1, 61)], folder="Trash")
    sync_account(reader)
    open_folder(page, live_server, reader, "Trash")
    page.get_by_role("button", name="Empty Trash").click()
    expect(page.get_by_role("heading", name="Empty Trash?")).to_be_visible()
    assert len(server_subjects(dovecot, address, "Trash")) == 60
    page.get_by_role("button", name="Empty Trash").click()
    expect(page.get_by_text("Trash is empty: 60 messages deleted for good.")).to_be_visible()
    expect(page.get_by_text("No messages in this folder.")).to_be_visible()
    assert server_subjects(dovecot, address, "Trash") == []
