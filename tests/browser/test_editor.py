"""The rich-text composer in Chromium: formatting, pasting (HTML, an image, too much), the
signature swapped with the sender, Ctrl+Enter, and what arrives at the SMTP server."""

from __future__ import annotations

import base64
import email
import email.policy
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from outbox.models import OutgoingMessage
from tests.browser.helpers import sign_in_browser
from tests.browser.test_send import deliver_in_a_worker_thread
from tests.factories import IdentityFactory, MailAccountFactory, UserFactory, user_on_test_servers

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
HOSTILE = (
    '<b style="font-weight:normal"><p>Pasted <span style="font-weight:700">bold</span></p></b>'
    "<script>window.pwned = 1</script>"
    '<img src="x" onerror="window.pwned = 2"><style>@import url(https://evil.example/s.css);</style>'
    '<link rel="stylesheet" href="https://evil.example/x.css"><p style="color:red" onclick="window.pwned = 3">end</p>'
)

PASTE_HTML = """([html]) => {
  const data = new DataTransfer();
  data.setData("text/html", html);
  data.setData("text/plain", "plain");
  document.querySelector("[data-editor-area]").dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""
PASTE_IMAGE = """([encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "dot.png", { type: "image/png" }));
  document.querySelector("[data-editor-area]").dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
def writer(page, live_server, transactional_db, dovecot, smtp_server, mail_account, pki, settings):
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    user.identities.update(signature="Sally\nSales")
    # Google Docs says bold with a style on a span, inside a <b> that says "not bold".

    IdentityFactory(
        user=user,
        account=user.mail_accounts.get(),
        address="help@example.test",
        display_name="Help desk",
        signature="The help desk",
        signature_html="<b>The help desk</b>",
        is_default=False,
    )
    sign_in_browser(page, live_server, user)
    return user


def test_write_paste_switch_sender_and_send_with_ctrl_enter(page, writer, smtp_server):
    page.goto(reverse("outbox:compose"))
    editor = page.locator("[data-editor-area]")
    expect(editor).to_be_visible()
    expect(page.locator("textarea[name=body]")).to_be_hidden()
    expect(editor.locator("[data-signature]")).to_have_text(re.compile(r"--\s*Sally\s*Sales"))
    page.get_by_label("To").fill("ann@example.test")
    page.get_by_label("Subject").fill("Rich")

    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+b")
    page.keyboard.type("Bold words")
    bold = page.get_by_role("button", name="Bold")
    expect(bold).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Control+b")
    page.keyboard.type(" and plain. ")
    expect(bold).to_have_attribute("aria-pressed", "false")
    expect(editor.locator("b")).to_have_text("Bold words")
    page.evaluate(PASTE_HTML, [HOSTILE])
    expect(editor).to_contain_text("Pasted bold")
    # Parsing the paste, even inertly, makes the browser report the handler and the style the
    # CSP blocks: expected here, and nothing else may be in the console.
    blocked = [e for e in page.console_errors if "Content Security Policy" in e and "has been blocked" in e]
    assert blocked
    page.console_errors[:] = [e for e in page.console_errors if e not in blocked]
    page.evaluate(PASTE_IMAGE, [PNG])
    expect(editor.locator("img")).to_have_count(1)
    assert page.evaluate("window.pwned") is None

    page.get_by_label("From").select_option(str(writer.identities.get(address="help@example.test").pk))
    expect(editor.locator("[data-signature]")).to_have_count(1)
    expect(editor.locator("[data-signature] b")).to_have_text("The help desk")
    expect(editor).not_to_contain_text("Sally")

    editor.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    message = OutgoingMessage.objects.get()
    assert message.sender == "help@example.test"
    deliver_in_a_worker_thread(str(message.pk))
    mime = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    assert mime.get_content_type() == "multipart/alternative"
    text, related = mime.get_payload()
    rich, image = related.get_payload()
    html, plain = rich.get_content(), text.get_content().replace("\r\n", "\n")
    for never in ("pwned", "script", "onerror", "onclick", "style", "evil.example", "Sally"):
        assert never not in html and never not in plain
    assert "<b>Bold words</b>" in html and "end" in html
    assert re.search(r"Pasted (<span>)?<b>bold</b>", html), html
    assert image.get_content() == base64.b64decode(PNG)
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert plain.count("-- \n") == 1 and "The help desk" in plain
    assert text.get_param("format") == "flowed"


def test_an_oversized_paste_is_refused_and_the_text_kept(page, live_server, transactional_db, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 20_000
    user = UserFactory(email="writer@example.test")
    IdentityFactory(user=user, account=MailAccountFactory(user=user), address=user.email, display_name="Writer")
    sign_in_browser(page, live_server, user)
    page.goto(reverse("outbox:compose"))
    editor = page.locator("[data-editor-area]")
    editor.click()
    page.keyboard.type("Kept text")
    page.evaluate(PASTE_HTML, ["<p>" + "x" * 30_000 + "</p>"])
    expect(page.get_by_text("The message is too large").first).to_be_visible()
    expect(editor).to_have_text("Kept text")


def test_plain_text_switch_and_the_plain_setting(page, live_server, transactional_db):
    user = UserFactory(email="plain@example.test", compose_plain=True)
    IdentityFactory(
        user=user, account=MailAccountFactory(user=user), address=user.email, display_name="P", signature="Pat"
    )
    sign_in_browser(page, live_server, user)
    page.goto(reverse("outbox:compose"))
    switch = page.get_by_label("Plain text")
    expect(switch).to_be_checked()
    textarea = page.locator("textarea[name=body]")
    expect(textarea).to_be_visible()
    expect(textarea).to_have_value("\n\n-- \nPat")
    textarea.fill("Hello\n\n-- \nPat")
    switch.uncheck()
    editor = page.locator("[data-editor-area]")
    expect(editor).to_be_visible()
    expect(editor.locator("[data-signature]")).to_have_count(1)
    editor.locator("div").first.click()
    page.keyboard.press("Control+b")
    page.keyboard.type("x")
    page.once("dialog", lambda dialog: dialog.accept())
    switch.check()
    expect(textarea).to_be_visible()
    expect(textarea).to_have_value(re.compile(r"Hello.*\n\n-- \nPat\n?$", re.DOTALL))
