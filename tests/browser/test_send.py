"""Writing and sending a message in a real browser, against the test Dovecot and SMTP server."""

from __future__ import annotations

import re
import threading

from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from outbox import delivery
from outbox.models import MessageState, OutgoingMessage
from tests.browser.conftest import sign_in_browser
from tests.factories import user_on_test_servers


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
