"""Drafts in a real browser: saved a moment after typing stops, without taking the focus or the
cursor; a reload restores everything, attachments included; Esc closes the composer and keeps
the draft; two windows on one draft never overwrite each other silently."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from outbox.models import SavedDraft
from tests.browser.helpers import sign_in_browser
from tests.factories import IdentityFactory, MailAccountFactory, UserFactory

SAVED = re.compile(r"^Saved \d\d:\d\d$")


@pytest.fixture
def rich_writer(transactional_db):
    user = UserFactory(email="rita@example.test", full_name="Rita Rich")
    account = MailAccountFactory(user=user)
    IdentityFactory(user=user, account=account, address=user.email, display_name="Rita Rich")
    return user


@pytest.fixture
def writer(transactional_db):
    user = UserFactory(email="wendy@example.test", full_name="Wendy Writer", compose_plain=True)
    account = MailAccountFactory(user=user)
    IdentityFactory(user=user, account=account, address=user.email, display_name="Wendy Writer")
    return user


def status(page):
    return page.locator("[data-draft-status]")


def test_a_draft_is_saved_while_typing_and_a_reload_restores_everything(page, live_server, writer, tmp_path):
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.get_by_label("To").fill("Ann <ann@example.org>, half@")
    page.get_by_label("Subject").fill("Minutes")
    body = page.get_by_label("Message")
    body.fill("Dear all,\n\nthe minutes are attached.")
    body.press("Home")  # the cursor at the start of the last line
    cursor = body.evaluate("field => field.selectionStart")
    expect(status(page)).to_have_text(SAVED)
    expect(page).to_have_url(re.compile(r"/outbox/compose/\?draft=[0-9a-f-]{36}$"))
    assert page.evaluate("document.activeElement.name") == "body", "saving took the focus"
    assert body.evaluate("field => field.selectionStart") == cursor, "saving moved the cursor"

    minutes = tmp_path / "minutes.txt"
    minutes.write_text("We agreed on everything.")
    page.get_by_label("Attachments").set_input_files(minutes)
    expect(page.get_by_role("checkbox", name=re.compile(r"minutes\.txt"))).to_be_checked()

    to = page.locator("input[name=to]")  # under the chips, the list the server reads
    typed_to = to.input_value()
    assert "ann@example.org" in typed_to and "half@" in typed_to, typed_to
    page.reload()
    expect(to).to_have_value(typed_to)
    expect(page.get_by_label("Subject")).to_have_value("Minutes")
    expect(page.get_by_label("Message")).to_have_value("Dear all,\n\nthe minutes are attached.")
    expect(page.get_by_role("checkbox", name=re.compile(r"minutes\.txt"))).to_be_checked()
    draft = SavedDraft.objects.get(user=writer)
    assert [a.filename for a in draft.attachments.all()] == ["minutes.txt"]

    page.get_by_role("button", name="Remove minutes.txt").click()
    expect(page.get_by_role("checkbox", name=re.compile(r"minutes\.txt"))).to_have_count(0)
    expect(status(page)).to_have_text(SAVED)
    assert draft.attachments.count() == 0


def test_an_untouched_composer_saves_nothing_and_esc_keeps_a_touched_one(page, live_server, writer):
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.wait_for_timeout(2500)  # longer than the pause after which a change is saved
    assert SavedDraft.objects.count() == 0, "nothing typed, nothing saved"

    page.get_by_label("Subject").fill("Back later")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"/outbox/drafts/$"))
    expect(page.get_by_role("link", name="Back later")).to_be_visible()


def test_a_second_window_is_told_and_keeps_its_text_until_it_chooses(page, live_server, writer):
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.get_by_label("Message").fill("From the first window")
    expect(status(page)).to_have_text(SAVED)
    second = page.context.new_page()
    second.goto(page.url)
    second.get_by_label("Message").fill("From the second window")
    expect(status(second)).to_have_text(SAVED)

    page.get_by_label("Message").fill("From the first window, edited")
    expect(page.get_by_text("This draft was changed in another window.")).to_be_visible()
    assert SavedDraft.objects.get().body == "From the second window"
    expect(page.get_by_label("Message")).to_have_value("From the first window, edited")
    page.get_by_role("button", name="Keep this version").click()
    expect(status(page)).to_have_text(SAVED)
    assert SavedDraft.objects.get().body == "From the first window, edited"
    refused = [e for e in page.console_errors if re.fullmatch(r"409 for .*/save/", e)]
    assert len(refused) == 1, "the stale save was refused, once"
    page.console_errors[:] = [e for e in page.console_errors if e not in refused]


def test_a_rich_text_draft_comes_back_rich(page, live_server, rich_writer):
    sign_in_browser(page, live_server, rich_writer)
    page.goto(reverse("outbox:compose"))
    editor = page.locator("[data-editor-area]")
    editor.click()
    page.keyboard.type("Plain start, ")
    page.keyboard.press("Control+b")
    page.keyboard.type("bold end")
    expect(status(page)).to_have_text(SAVED)
    draft = SavedDraft.objects.get(user=rich_writer)
    assert "<b>bold end</b>" in draft.html and "bold end" in draft.body

    page.reload()
    expect(page.locator("[data-editor-area] b")).to_have_text("bold end")
    expect(page.locator("[data-editor-area]")).to_contain_text("Plain start,")


DROP = """([name, size]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["x".repeat(size)], name, {type: "text/plain"}));
  const target = document.querySelector(".compose-options");
  for (const type of ["dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


def test_a_file_dropped_on_the_composer_is_attached_and_one_over_the_cap_is_refused_first(
    page, live_server, writer, settings
):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 3000
    uploads = []
    page.on("request", lambda request: uploads.append(request.url) if "/attachments/" in request.url else None)
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.evaluate(DROP, ["notes.txt", 100])
    expect(page.get_by_role("checkbox", name=re.compile(r"notes\.txt"))).to_be_checked()
    assert len(uploads) == 1
    expect(page.get_by_text(re.compile(r"This message: 0\.1 kB of the 2\.9 kB it may be"))).to_be_visible()

    page.evaluate(DROP, ["huge.txt", 2500])  # about 3,400 bytes as sent, with what is there
    expect(page.get_by_text("The message is too large: the limit is 2.9")).to_be_visible()
    page.wait_for_timeout(300)
    assert len(uploads) == 1, "refused in the browser, before any upload"
    assert [a.filename for a in SavedDraft.objects.get().attachments.all()] == ["notes.txt"]


def test_question_mark_shows_the_shortcuts_and_esc_closes_only_the_sheet(page, live_server, writer):
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.get_by_label("Subject").fill("Stay here")
    page.locator("h1").click()  # out of the field: single keys work again
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_text("Close the composer; the draft is kept")).to_be_visible()
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    page.wait_for_timeout(300)
    assert page.url.endswith("/outbox/compose/") or "draft=" in page.url, "still in the composer"


def test_typing_starts_in_to_for_a_new_message(page, live_server, writer):
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    expect(page.get_by_role("combobox", name="To")).to_be_focused()


def test_send_with_ctrl_enter_then_undo_brings_it_back_to_the_composer(page, live_server, writer, settings):
    settings.WEBMAIL_UNDO_SECONDS = 30
    sign_in_browser(page, live_server, writer)
    page.goto(reverse("outbox:compose"))
    page.get_by_role("combobox", name="To").fill("ann@example.org")
    page.get_by_label("Subject").fill("Not yet")
    page.get_by_label("Message").fill("On second thought…")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    page.get_by_role("button", name="Undo send").click()
    page.wait_for_url(re.compile(r"/outbox/compose/\?draft="))
    expect(page.get_by_text("The message is back in the composer.")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value("Not yet")
    expect(page.get_by_label("Message")).to_have_value("On second thought…")
    expect(page.locator("input[name=to]")).to_have_value(re.compile("ann@example.org"))
