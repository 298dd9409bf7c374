"""A German user in a French browser: the mailbox, its messages and the composer's own script
speak German (the user's setting wins over Accept-Language)."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import sign_in_browser
from tests.factories import IdentityFactory
from tests.webmail.helpers import make_message


def test_a_german_user_reads_and_writes_in_german(page, live_server, reader, dovecot, published):
    user = reader.user
    user.language = "de"
    user.save()
    IdentityFactory(user=user, account=reader, address=user.email)
    dovecot.deliver(user.email, make_message(1, subject="Plan"))
    page.context.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    sign_in_browser(page, live_server, user)
    page.goto(reverse("mailbox:index"))
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Posteingang")).to_be_visible()
    expect(page.get_by_role("link", name="Verfassen")).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    page.get_by_label("„Plan“ auswählen").check()
    page.get_by_role("button", name="Als gelesen markieren", exact=True).click()
    expect(page.get_by_text("1 Nachricht als gelesen markiert.")).to_be_visible()

    # The composer checks an address in the browser, in words from the German catalogue.
    page.goto(reverse("outbox:compose"))
    page.get_by_label("An", exact=True).press_sequentially("bob@,")
    chip = page.locator(".chip.invalid").get_by_role("button", name="bob@", exact=True)
    expect(chip).to_have_attribute("title", "bob@ hat keine Domain nach dem @.")
