"""Chromium, driven by Playwright, against the live test server."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started

from tests.browser.fixtures import attacker  # noqa: F401
from tests.webmail.fixtures import reader  # noqa: F401
from tests.webmail.mailbox.fixtures import published  # noqa: F401

CHROMIUM = Path(os.environ.get("WEBMAIL_TEST_CHROMIUM", "/usr/bin/chromium"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and the tests of other folders call asyncio.run() themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium.", pytrace=False)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made between page
    # actions (and by the database fixtures' teardown) are ordinary blocking calls, which is fine.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch(sync_playwright)
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _launch(sync_playwright) -> Iterator:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context; fails the test on any console error (CSP violations included)."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        # Chromium reports every 4xx page as a console error; the pages that answer 400 or 429
        # on purpose are checked by the tests, and failing sub-resources by on_response below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    in_flight: set = set()
    context.on("request", lambda request: in_flight.add(request))
    context.on("requestfinished", lambda request: in_flight.discard(request))
    context.on("requestfailed", lambda request: in_flight.discard(request))
    yield page
    reported = list(errors)
    leave_quietly(context, in_flight)
    context.close()
    assert not reported, f"browser console errors: {reported}"


# The live server's requests in progress, by thread (each is served on a thread of its own):
# what a page sent as it left is answered before the test's database is emptied.
_serving: dict[int, str] = {}


def _started(sender, environ=None, **kwargs) -> None:
    _serving[threading.get_ident()] = (environ or {}).get("PATH_INFO", "")


def _finished(sender, **kwargs) -> None:
    _serving.pop(threading.get_ident(), None)


request_started.connect(_started, weak=False, dispatch_uid="browser-tests-serving")
request_finished.connect(_finished, weak=False, dispatch_uid="browser-tests-serving")


def leave_quietly(context, in_flight: set) -> None:
    """The pages leave before the test's database is emptied, as a closed tab would: what they
    send as they go (a composer's last draft save) is answered first, not in the middle of the
    flush (on PostgreSQL the two would deadlock). Event streams, which last, are not waited for."""
    for open_page in context.pages:
        with contextlib.suppress(Exception):
            open_page.goto("about:blank")
    pump = context.pages[0] if context.pages else None
    deadline = time.monotonic() + 5
    settle = time.monotonic() + 0.3  # a request sent during the unload is on its way
    while pump is not None and time.monotonic() < deadline:
        browser_waits = [request for request in in_flight if "/mail/live/" not in request.url]
        server_busy = [path for path in list(_serving.values()) if not path.startswith("/mail/live/")]
        if time.monotonic() >= settle and not browser_waits and not server_busy:
            break
        pump.wait_for_timeout(50)  # Playwright's events arrive while it waits
