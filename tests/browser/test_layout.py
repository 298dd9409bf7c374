"""The layout in Chromium on a phone (390 by 844, and 360 wide) and a desktop (1280 by 800): the
list, a message, the composer and settings fit the screen, with screenshots of each; the folder
drawer, bulk actions that follow the selection, the body frame as tall as its text, the reading
pane beside the list, and dark mode."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from tests.browser.screens import inbox_messages, screenshot_dir
from tests.factories import IdentityFactory
from tests.webmail.mailbox.helpers import deliver_all
from webmail.mailbox import tasks
from webmail.mailbox.models import Folder

SCREENS = {"phone": (390, 844), "desktop": (1280, 800)}
TAP = 44


@pytest.fixture
def inbox(reader, dovecot, monkeypatch) -> Folder:
    """The reader's account with the screenshots' mail in its Inbox, and an identity to write
    from. No worker runs: the pages publish no sync (as with the broker down), so that their
    lists show what they have without "Refreshing…"."""
    monkeypatch.setattr(tasks, "publish", lambda task, *args: False)
    IdentityFactory(user=reader.user, account=reader, address=reader.user.email, display_name="Rita Reader")
    for raw, flags in inbox_messages(reader.user.email):
        deliver_all(dovecot, reader.user.email, [raw], flags=flags)
    return reader


def open_inbox(page, live_server, account) -> Folder:
    sign_in_browser(page, live_server, account.user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    return Folder.objects.get(account=account, name="INBOX")


def sideways(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def wait_for_frame_height(page, selector: str = "iframe.mail-body") -> float:
    for _ in range(50):
        if page.evaluate(f"!!document.querySelector('{selector}.sized')"):
            return page.locator(selector).first.bounding_box()["height"]
        page.wait_for_timeout(100)
    raise AssertionError("the body frame was never sized to its text")


def shoot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(screenshot_dir(tmp_path) / f"{name}.png"))


def message_with_attachment(inbox: Folder):
    return inbox.messages.get(subject="Quarterly figures, final")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_list_a_message_the_composer_and_settings_fit_the_screen(page, live_server, inbox, device, tmp_path):
    width, height = SCREENS[device]
    page.set_viewport_size({"width": width, "height": height})
    folder = open_inbox(page, live_server, inbox)
    pages = {
        "list": reverse("mailbox:folder", args=[folder.pk]),
        "message": reverse("mailbox:message", args=[folder.pk, message_with_attachment(folder).uid]),
        "composer": reverse("outbox:compose"),
        "settings": reverse("accounts:settings"),
    }
    for name, url in pages.items():
        page.goto(url)
        if name == "message":
            # Three lines of text: a frame of about their height, the attachments right below.
            assert wait_for_frame_height(page) < 260
            expect(page.get_by_role("heading", name="Attachments")).to_be_in_viewport()
        if name == "list":
            first = page.locator(".message-table tbody tr").first
            expect(first).to_contain_text("Lunch on Friday?")
            box = first.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"first row below the fold: {box}"
            # Under the subject, the first words of the text: one line, however long the text.
            preview = first.locator(".preview")
            expect(preview).to_have_text("Hi Rita, Shall we try the new place on the corner? I can book for 12:30. Ann")
            line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.preview')).lineHeight)")
            assert preview.bounding_box()["height"] <= line + 1, "the preview takes more than a line"
        shoot(page, tmp_path, f"{device}-{name}")
        assert sideways(page) == 0, f"{name} scrolls sideways at {width} px"
        if device == "phone":
            page.set_viewport_size({"width": 360, "height": 740})
            assert sideways(page) == 0, f"{name} scrolls sideways at 360 px"
            page.set_viewport_size({"width": width, "height": height})


def test_on_a_phone_folders_are_in_a_drawer_rows_open_with_a_tap_and_bulk_actions_follow_the_selection(
    page, live_server, inbox, tmp_path
):
    page.set_viewport_size({"width": 390, "height": 844})
    folder = open_inbox(page, live_server, inbox)
    folders = page.get_by_role("navigation", name="Mail folders")
    expect(folders).not_to_be_in_viewport()
    menu = page.get_by_role("link", name="Menu")
    for target in (menu, page.get_by_role("link", name="Compose"), page.locator(".message-table tbody tr").first):
        box = target.bounding_box()
        assert box["width"] >= TAP and box["height"] >= TAP, f"a tap target of {box}"

    # Bulk actions only once a row is selected; the move picker starts on no folder.
    mark_read = page.get_by_role("button", name="Mark read")
    expect(mark_read).to_be_hidden()
    pick = page.locator(".message-table .pick").first
    assert pick.bounding_box()["height"] >= TAP
    page.get_by_label("Select “Nightly build passed”").check()
    expect(mark_read).to_be_visible()
    expect(page.get_by_label("Move to")).to_have_value("")
    shoot(page, tmp_path, "phone-selected")
    page.get_by_label("Select “Nightly build passed”").uncheck()
    expect(mark_read).to_be_hidden()

    menu.click()
    expect(folders).to_be_in_viewport()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.wait_for_timeout(300)  # the drawer slides in
    shoot(page, tmp_path, "phone-drawer")
    page.keyboard.press("Escape")
    expect(folders).not_to_be_in_viewport()

    # A tap anywhere on the row (here on its date) opens the message.
    when = page.locator(".message-table tbody tr").first.locator(".when").bounding_box()
    page.mouse.click(when["x"] + when["width"] / 2, when["y"] + when["height"] / 2)
    page.wait_for_url(re.compile(rf"/mail/{folder.pk}/\d+/$"))
    expect(page.get_by_role("heading", name="Lunch on Friday?")).to_be_visible()


def test_the_send_button_stays_on_screen_with_the_keyboard_open(page, live_server, inbox):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_browser(page, live_server, inbox.user)
    page.goto(reverse("outbox:compose"))
    page.set_viewport_size({"width": 390, "height": 420})  # about what a keyboard leaves
    editor = page.locator(".editor-area")
    editor.click()
    page.keyboard.type("Line\n" * 12)
    send = page.get_by_role("button", name="Send", exact=True)
    expect(send).to_be_in_viewport()
    box = send.bounding_box()
    assert box["y"] + box["height"] <= 420 and box["height"] >= TAP


def test_the_reading_pane_shows_messages_beside_the_list_with_newer_and_older(page, live_server, inbox, tmp_path):
    inbox.user.reading_pane = True
    inbox.user.save(update_fields=["reading_pane"])
    page.set_viewport_size({"width": 1280, "height": 800})
    folder = open_inbox(page, live_server, inbox)
    list_url = page.url
    page.get_by_role("link", name="Lunch on Friday?", exact=True).click()
    pane = page.locator("#reading-pane")
    expect(pane.get_by_role("heading", name="Lunch on Friday?")).to_be_visible()
    expect(page.locator(".message-table")).to_be_visible()  # the list stays
    lunch = folder.messages.get(subject="Lunch on Friday?")
    assert page.url.endswith(reverse("mailbox:message", args=[folder.pk, lunch.uid]))
    expect(page.locator("tr.current")).to_contain_text("Lunch on Friday?")
    assert wait_for_frame_height(page, "#reading-pane iframe.mail-body") < 260
    shoot(page, tmp_path, "desktop-reading-pane")

    pane.get_by_role("link", name="Older").click()
    expect(pane.get_by_role("heading", name="Nightly build passed")).to_be_visible()
    pane.get_by_role("link", name="Newer").click()
    expect(pane.get_by_role("heading", name="Lunch on Friday?")).to_be_visible()
    expect(pane.locator("a[rel=prev]")).to_have_attribute("aria-disabled", "true")  # none newer
    page.go_back()
    expect(pane.get_by_role("heading", name="Nightly build passed")).to_be_visible()
    page.go_back()
    page.go_back()
    assert page.url == list_url
    expect(pane.get_by_text("Choose a message to read it here.")).to_be_visible()

    # The message's address is a page of its own.
    page.goto(reverse("mailbox:message", args=[folder.pk, lunch.uid]))
    expect(page.get_by_role("link", name="Back to Inbox")).to_be_visible()


def background(page, selector: str = "body") -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).backgroundColor")


def frame_background(page) -> str:
    frame = page.frame(name="message-body")
    frame.wait_for_load_state("load")
    return frame.evaluate("getComputedStyle(document.body).backgroundColor")


LIGHT_PANEL, DARK_PANEL = "rgb(255, 255, 255)", "rgb(24, 27, 33)"


def test_dark_mode_follows_the_system_unless_the_user_chose(page, live_server, inbox, dovecot, tmp_path):
    coloured = (
        b"From: Shop <shop@example.test>\r\nTo: rita@example.test\r\nSubject: Sale\r\n"
        b"Date: Mon, 2 Nov 2026 08:00:00 +0000\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<div style="background: #fde68a; color: #111">Everything half price</div>\r\n'
    )
    uid = dovecot.deliver(inbox.user.email, coloured)
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    folder = open_inbox(page, live_server, inbox)
    assert background(page, ".message-table tbody tr") == DARK_PANEL
    shoot(page, tmp_path, "phone-list-dark")
    page.goto(reverse("mailbox:message", args=[folder.pk, folder.messages.get(subject="Lunch on Friday?").uid]))
    assert frame_background(page) == DARK_PANEL, "plain text follows the theme"
    shoot(page, tmp_path, "phone-message-dark")
    page.goto(reverse("mailbox:message", args=[folder.pk, uid]))
    assert frame_background(page) == LIGHT_PANEL, "mail with colours of its own keeps its light page"

    inbox.user.theme = "light"  # the user's choice wins over the system's
    inbox.user.save(update_fields=["theme"])
    page.goto(reverse("mailbox:folder", args=[folder.pk]))
    assert background(page, ".message-table tbody tr") == LIGHT_PANEL
    page.emulate_media(color_scheme="light")
    inbox.user.theme = "dark"
    inbox.user.save(update_fields=["theme"])
    page.goto(reverse("mailbox:message", args=[folder.pk, folder.messages.get(subject="Lunch on Friday?").uid]))
    assert background(page, ".panel") == DARK_PANEL
    assert frame_background(page) == DARK_PANEL
