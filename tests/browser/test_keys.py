"""The keys of the lists and the reading pane in Chromium, on a real INBOX from Dovecot: each key
is checked by what it changed on the server (flags, the folder a message is in)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, server_flags, server_subjects
from webmail.mailbox import tasks
from webmail.mailbox.models import Folder


@pytest.fixture
def inbox(page, live_server, reader, dovecot, monkeypatch):
    """Messages 1 to 5 in the INBOX, open in the browser (newest first: Message 5 on top). The
    sync a page asks for runs at once, as a worker would, so that the list does not poll."""

    def sync_now(folder: Folder) -> bool:
        tasks.sync_folder(str(folder.account_id), folder.pk)
        return True

    monkeypatch.setattr(tasks, "publish_folder_sync", sync_now)
    uids = deliver_all(dovecot, reader.user.email, [make_message(n) for n in range(1, 6)])
    sign_in_browser(page, live_server, reader.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    expect(page.locator(".message-table tbody tr")).to_have_count(5)
    return dict(zip((f"Message {n}" for n in range(1, 6)), uids, strict=True))


def cursor(page):
    return page.locator("table.message-table tbody tr[aria-current=true]")


def press(page, key: str, done: str) -> None:
    """A key whose action posts the page's form: wait for the page it comes back to."""
    with page.expect_navigation():
        page.keyboard.press(key)
    expect(page.get_by_text(done)).to_be_visible()


def flags(dovecot, reader, uid: int) -> set[bytes]:
    return server_flags(dovecot, reader.user.email)[uid]


def test_the_cursor_and_the_actions_on_it_or_on_the_selection(page, inbox, dovecot, reader):
    page.keyboard.press("j")
    expect(cursor(page)).to_have_count(1)
    expect(cursor(page)).to_contain_text("Message 5")
    expect(cursor(page).get_by_role("link", name="Message 5")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(cursor(page)).to_contain_text("Message 4")

    press(page, "s", "1 message flagged.")
    assert b"\\Flagged" in flags(dovecot, reader, inbox["Message 4"])
    expect(cursor(page)).to_contain_text("Message 4")  # the cursor is where it was
    press(page, "s", "1 message unflagged.")
    assert b"\\Flagged" not in flags(dovecot, reader, inbox["Message 4"])
    press(page, "Shift+I", "1 message marked as read.")
    assert b"\\Seen" in flags(dovecot, reader, inbox["Message 4"])
    press(page, "Shift+U", "1 message marked as unread.")
    assert b"\\Seen" not in flags(dovecot, reader, inbox["Message 4"])

    # x selects; an action then takes the selected rows, not only the one under the cursor.
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("input[name=uid]:checked")).to_have_count(2)
    press(page, "s", "2 messages flagged.")
    assert all(b"\\Flagged" in flags(dovecot, reader, inbox[name]) for name in ("Message 4", "Message 3"))

    expect(cursor(page)).to_contain_text("Message 3")
    press(page, "#", "1 message moved to Trash.")
    assert server_subjects(dovecot, reader.user.email, "Trash") == ["Message 3"]
    expect(cursor(page)).to_contain_text("Message 2")  # the row that took its place
    press(page, "!", "1 message moved to Junk.")
    assert server_subjects(dovecot, reader.user.email, "Junk") == ["Message 2"]

    # o opens the message under the cursor, j/k on it go to the older/newer one, u comes back.
    expect(cursor(page)).to_contain_text("Message 1")
    page.keyboard.press("k")
    with page.expect_navigation():
        page.keyboard.press("o")
    expect(page.get_by_role("heading", name="Message 4")).to_be_visible()
    with page.expect_navigation():
        page.keyboard.press("j")
    expect(page.get_by_role("heading", name="Message 1")).to_be_visible()
    with page.expect_navigation():
        page.keyboard.press("k")
    expect(page.get_by_role("heading", name="Message 4")).to_be_visible()
    press(page, "s", "1 message unflagged.")  # on the message itself
    assert b"\\Flagged" not in flags(dovecot, reader, inbox["Message 4"])
    with page.expect_navigation():
        page.keyboard.press("u")
    expect(cursor(page)).to_contain_text("Message 4")
    expect(cursor(page).get_by_role("link", name="Message 4")).to_be_focused()


def test_the_folder_picker_filters_and_moves_and_typing_stays_typing(page, inbox, dovecot, reader):
    page.keyboard.press("/")
    search = page.get_by_label("Search mail")
    expect(search).to_be_focused()
    page.keyboard.type("jk#sv")
    expect(search).to_have_value("jk#sv")
    expect(cursor(page)).to_have_count(0)
    page.locator("h1").click()

    page.keyboard.press("j")
    page.keyboard.press("v")
    picker = page.get_by_role("dialog", name="Move into a folder")
    expect(picker).to_be_visible()
    picker.get_by_role("heading").click()  # out of its field, yet no key fires under a dialog
    page.keyboard.press("c")
    page.wait_for_timeout(300)
    assert "/compose/" not in page.url
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()

    page.keyboard.press("v")
    page.keyboard.type("r")  # Drafts, Trash, Archive
    options = picker.get_by_role("option")
    expect(options).to_have_text(["Drafts", "Trash", "Archive"])
    page.keyboard.press("ArrowDown")
    expect(picker.get_by_role("option", name="Trash")).to_have_attribute("aria-selected", "true")
    page.keyboard.type("ch")
    expect(options).to_have_text(["Archive"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("1 message moved to Archive.")).to_be_visible()
    assert server_subjects(dovecot, reader.user.email, "Archive") == ["Message 5"]
    assert "Message 5" not in server_subjects(dovecot, reader.user.email)

    # The sheet lists the keys; none fires while it is open.
    expect(cursor(page)).to_contain_text("Message 4")
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet.get_by_text("Move to a folder: type to filter, Enter moves")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(cursor(page)).to_contain_text("Message 4")

    # g then s: the Sent folder.
    with page.expect_navigation():
        page.keyboard.press("g")
        page.keyboard.press("s")
    expect(page.get_by_role("heading", name="Sent")).to_be_visible()


def test_the_keys_act_on_search_results_from_several_folders(page, inbox, dovecot, reader):
    archived = deliver_all(
        dovecot, reader.user.email, [make_message(9, subject="Message 9 archived")], folder="Archive"
    )
    folder = Folder.objects.get(account=reader, name="INBOX")
    search = reverse("mailbox:search", args=[folder.pk]) + "?q=Message&scope=all"
    page.goto(search)  # Archive was never opened: this search has it synced, for the next one
    page.goto(search)
    expect(page.locator(".message-table tbody tr")).to_have_count(6)
    page.keyboard.press("j")  # Message 9, the newest, in Archive
    expect(cursor(page)).to_contain_text("Message 9 archived")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    press(page, "s", "2 messages flagged.")
    assert b"\\Flagged" in server_flags(dovecot, reader.user.email, "Archive")[archived[0]]
    assert b"\\Flagged" in flags(dovecot, reader, inbox["Message 5"])
    assert b"\\Flagged" not in flags(dovecot, reader, inbox["Message 4"])
