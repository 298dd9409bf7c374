"""Writing and sending a message in a real browser, against the test Dovecot and SMTP server."""

from __future__ import annotations

import re
import threading
from email.message import EmailMessage

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from outbox import delivery
from outbox.models import MessageState, OutgoingMessage
from tests.browser.helpers import sign_in_browser
from tests.factories import IdentityFactory, MailAccountFactory, UserFactory, user_on_test_servers
from tests.webmail.mailbox.helpers import folder_named, sync_account


def deliver_in_a_worker_thread(message_id: str) -> None:
    """``delivery.deliver`` as the Celery task runs it, on a thread of its own.

    Not on the test's thread: Playwright's sync API keeps an event loop running there, and
    ``deliver`` starts one with ``asyncio.run``.
    """
    errors: list[BaseException] = []

    def work() -> None:
        try:
            delivery.deliver(message_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=work, name="test-outbox-worker")
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "delivery did not finish within 30 s"
    if errors:
        raise errors[0]


def test_a_message_is_composed_sent_and_its_page_follows_it_live(
    page, live_server, transactional_db, dovecot, smtp_server, mail_account, pki, settings
):
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    user.compose_plain = True  # the plain-text composer; the rich one: tests/browser/test_editor.py
    user.save(update_fields=["compose_plain"])
    sign_in_browser(page, live_server, user)

    page.goto(reverse("outbox:list"))
    page.get_by_role("link", name="Compose").first.click()
    page.wait_for_url(re.compile(r"/outbox/compose/$"))
    expect(page.get_by_label("From")).to_have_value(str(user.identities.get().pk))
    page.get_by_label("To").fill("Ann Example <ann@example.test>")
    page.get_by_label("Subject").fill("Lunch on Friday?")
    page.get_by_label("Message").fill("Hi Ann,\n\nthe usual place at noon?\n\nSally")
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    expect(page.get_by_text("Queued.")).to_be_visible()
    status = page.locator("#message-status").get_by_role("status")
    expect(status).to_have_text("queued")
    message = OutgoingMessage.objects.get()
    assert message.state == MessageState.QUEUED
    page.evaluate("window.stillTheSamePage = true")

    # No Celery worker runs here: the test does the worker's job, and the page finds out by itself.
    deliver_in_a_worker_thread(str(message.pk))

    expect(status).to_have_text("sent", timeout=10_000)
    assert page.evaluate("window.stillTheSamePage") is True, "the page was not reloaded"
    expect(page.get_by_role("cell", name="accepted by the server")).to_be_visible()
    received = smtp_server.wait_for(1)
    assert received[0].rcpt_tos == ["ann@example.test"]
    assert b"Subject: Lunch on Friday?" in received[0].data


def test_the_browser_refuses_a_message_too_large_before_uploading_it(page, live_server, transactional_db, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 10_000
    user = UserFactory(email="writer@example.test", compose_plain=True)
    IdentityFactory(user=user, account=MailAccountFactory(user=user), address=user.email, display_name="Writer")
    sign_in_browser(page, live_server, user)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    page.goto(reverse("outbox:compose"))
    page.get_by_label("To").fill("ann@example.test")
    page.get_by_label("Subject").fill("The figures")
    page.get_by_label("Message").fill("Attached, as promised.")
    # 9,000 bytes on disk are more than 12,000 once encoded into the message.
    page.get_by_label("Attachments").set_input_files(
        [{"name": "figures.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 9000}]
    )
    warning = page.get_by_text("The message is too large: the limit is 9.8\xa0KB as sent.")
    expect(warning).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(warning).to_be_visible()
    assert not [url for url in posts if "/attachments/" in url or url.endswith("/compose/")], "nothing was uploaded"
    assert page.url.endswith(reverse("outbox:compose"))
    expect(page.get_by_label("Message")).to_have_value("Attached, as promised.")

    page.get_by_label("Attachments").set_input_files(
        [{"name": "figures.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 3000}]
    )
    expect(warning).to_be_hidden()
    page.get_by_role("button", name="Send").click()  # at once: sent when the file is up
    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    message = OutgoingMessage.objects.get()
    assert message.subject == "The figures" and b'filename="figures.bin"' in bytes(message.mime)


@pytest.fixture
def reading(page, live_server, transactional_db, dovecot, smtp_server, mail_account, pki, settings):
    """Opens, in the browser, a message from Ann in the INBOX of a user who can send; returns
    a function of the message's subject and text."""
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    user.compose_plain = True  # the plain-text composer; the rich one: tests/browser/test_editor.py
    user.save(update_fields=["compose_plain"])
    sign_in_browser(page, live_server, user)

    def open_message(subject: str, text: str, message_id: str = "") -> None:
        original = EmailMessage()
        original["From"] = "Ann Example <ann@example.test>"
        original["To"] = user.email
        original["Subject"] = subject
        if message_id:
            original["Message-ID"] = message_id
        original.set_content(text)
        dovecot.deliver(user.email, original.as_bytes())
        account = user.mail_accounts.get()
        sync_account(account, ["INBOX"])
        inbox = folder_named(account, "INBOX")
        page.goto(reverse("mailbox:message", args=[inbox.pk, inbox.messages.get().uid]))

    return open_message


def test_reply_from_the_reading_pane_answers_the_thread(page, reading, smtp_server):
    reading("Lunch on Friday?", "The usual place at noon?\n", message_id="<lunch@example.test>")
    page.get_by_role("link", name="Reply", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox/compose/\?"))
    expect(page.locator("input[name=to]")).to_have_value("Ann Example <ann@example.test>")  # shown as a chip
    expect(page.get_by_label("Subject")).to_have_value("Re: Lunch on Friday?")
    body = page.get_by_label("Message")
    expect(body).to_have_value(re.compile(r"wrote:\n> The usual place at noon\?"))
    expect(body).to_be_focused()  # typing starts above the quote
    assert body.evaluate("field => field.selectionStart") == 0
    page.keyboard.type("Yes, see you there.")
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    deliver_in_a_worker_thread(str(OutgoingMessage.objects.get().pk))
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["ann@example.test"]
    assert b"In-Reply-To: <lunch@example.test>" in received.data
    assert b"Yes, see you there." in received.data.split(b"wrote:")[0]  # above the quote


def test_keys_r_then_ctrl_enter_reply_and_send_but_not_while_typing(page, reading):
    reading("Keys", "Press r.\n")
    page.keyboard.press("r")
    page.wait_for_url(re.compile(r"/outbox/compose/\?.*how=reply"))
    expect(page.get_by_role("heading", name="Reply", exact=True)).to_be_visible()
    subject = page.get_by_label("Subject")
    subject.press("End")
    subject.type(" c")  # typed in a field: no shortcut (c would open a new composer)
    expect(subject).to_have_value("Re: Keys c")
    assert "how=reply" in page.url
    page.get_by_label("Message").press("Control+Enter")
    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))
    assert OutgoingMessage.objects.get().subject == "Re: Keys c"
