"""The live mailbox in Chromium: a page open on the INBOX is told when a sync changes the folder
(as the mail watcher's does), and shows new mail, read marks and counts without a reload."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from tests.factories import user_on_test_servers
from tests.servers.redis import RedisServer
from tests.webmail.mailbox.helpers import folder_named, sync_account
from webmail.mailbox import live


def mail(subject: str, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Example <ann@example.test>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Hello.\n")
    return message.as_bytes()


@pytest.fixture
def inbox_page(page, live_server, transactional_db, dovecot, mail_account, pki):
    """A user's INBOX open in the browser, with one message, and the page done with its own
    refresh (so that only the live news can change it now)."""
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host="127.0.0.1", smtp_port=1)
    dovecot.deliver(user.email, mail("First", user.email))
    account = user.mail_accounts.get()
    sync_account(account, ["INBOX"])
    inbox = folder_named(account, "INBOX")
    sign_in_browser(page, live_server, user)
    page.goto(reverse("mailbox:folder", args=[inbox.pk]))
    expect(page.get_by_role("link", name="First")).to_be_visible()
    sync_account(account, ["INBOX"])  # the refresh the page asked for, as a worker would do it
    expect(page.locator("#message-list[hx-trigger]")).to_have_count(0, timeout=10_000)  # it stopped polling
    return user, account


def test_new_mail_a_read_mark_and_the_counts_arrive_without_a_reload(page, inbox_page, dovecot):
    user, account = inbox_page
    page.evaluate("window.stillTheSamePage = true")
    unread = page.locator("a[aria-current=page] .count")
    expect(unread).to_have_text("1")

    uid = dovecot.deliver(user.email, mail("Second", user.email))
    sync_account(account, ["INBOX"])  # what the watcher does when IDLE says EXISTS
    expect(page.get_by_role("link", name="Second")).to_be_visible(timeout=5_000)
    expect(unread).to_have_text("2")
    expect(page).to_have_title(re.compile(r"^\(2\) Inbox"))

    client = dovecot.login(user.email)  # another client reads both
    try:
        client.select_folder("INBOX")
        client.add_flags(client.search(["ALL"]), [b"\\Seen"])
    finally:
        client.logout()
    sync_account(account, ["INBOX"])
    expect(unread).to_have_count(0, timeout=5_000)
    expect(page).to_have_title(re.compile(r"^Inbox"))
    assert page.evaluate("window.stillTheSamePage") is True, "the page was not reloaded"
    assert uid


def test_a_selected_row_is_not_pulled_away_the_page_offers_the_new_list_instead(page, inbox_page, dovecot):
    user, account = inbox_page
    page.get_by_role("checkbox").first.check()
    dovecot.deliver(user.email, mail("While choosing", user.email))
    sync_account(account, ["INBOX"])
    offer = page.get_by_role("button", name="The list changed. Show it")
    expect(offer).to_be_visible(timeout=5_000)
    expect(page.get_by_role("link", name="While choosing")).to_have_count(0)
    offer.click()
    expect(page.get_by_role("link", name="While choosing")).to_be_visible()


def test_the_counts_poll_answers_304_while_nothing_changed(page, inbox_page):
    state = page.evaluate(
        """async (url) => {
          const first = await fetch(url);
          const tag = first.headers.get("ETag");
          const again = await fetch(url, {headers: {"If-None-Match": tag}});
          return [first.status, again.status, (await first.json()).length];
        }""",
        reverse("mailbox:live_state"),
    )
    assert state[0] == 200 and state[1] == 304 and state[2] >= 1


def test_more_unread_mail_in_the_inbox_gives_a_desktop_notification_when_allowed(page, inbox_page, dovecot):
    user, account = inbox_page
    page.context.grant_permissions(["notifications"])
    # The tab is in the background (no visible tab in a headless run), and what is shown is noted.
    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", {get: () => "hidden"});
          window.shown = [];
          const Real = window.Notification;
          window.Notification = class extends Real {
            constructor(title, options) { super(title, options); window.shown.push([title, options.body]); }
          };
          Object.defineProperty(window.Notification, "permission", {get: () => "granted"});
        }"""
    )
    dovecot.deliver(user.email, mail("Ping", user.email))
    sync_account(account, ["INBOX"])
    for _ in range(50):  # (wait_for_function would evaluate a string: the page's CSP refuses that)
        if page.evaluate("window.shown.length"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.shown") == [["New mail", "2 unread in your Inbox"]]


@pytest.fixture
def own_redis(settings, monkeypatch):
    """The news over a Redis of the test's own, which it may kill and start again."""
    with RedisServer() as redis:
        settings.REDIS_URL = redis.url
        monkeypatch.setattr(live, "_client", None)
        yield redis
    monkeypatch.setattr(live, "_client", None)


def test_the_page_goes_on_hearing_while_redis_is_killed_and_started_again(page, own_redis, inbox_page, dovecot):
    user, account = inbox_page

    def arrives(subject: str) -> None:
        dovecot.deliver(user.email, mail(subject, user.email))
        sync_account(account, ["INBOX"])
        expect(page.get_by_role("link", name=subject)).to_be_visible(timeout=10_000)

    arrives("Over Redis")
    own_redis.kill()  # the stream ends; the page connects again and reads the counts itself
    arrives("Without Redis")
    own_redis.start()
    page.reload()  # a new stream, over Redis again
    arrives("Over Redis again")
