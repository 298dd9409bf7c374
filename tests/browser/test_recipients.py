"""Recipient chips and suggestions in the composer, and the user's own preferences, in a real
browser against the test servers."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from outbox.models import OutgoingMessage, RecipientKind
from tests.browser.helpers import sign_in_browser
from tests.browser.test_send import deliver_in_a_worker_thread
from tests.factories import IdentityFactory, MailAccountFactory, UserFactory, user_on_test_servers
from webmail.mailbox.correspondents import Sighting, record

PASTE = """(text) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  document.activeElement.dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
  );
}"""


def test_a_new_time_zone_is_applied_to_send_later(page, live_server, transactional_db, settings):
    settings.TIME_ZONE = "UTC"
    user = UserFactory(email="writer@example.test")
    IdentityFactory(user=user, account=MailAccountFactory(user=user), address=user.email)
    sign_in_browser(page, live_server, user)
    page.goto(reverse("accounts:settings"))
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("")
    expect(zone.locator("option:checked")).to_have_text("Site default (UTC)")
    zone.select_option("Asia/Tokyo")
    page.get_by_label("Undo send").select_option("20")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    user.refresh_from_db()
    assert (user.time_zone, user.undo_send_seconds) == ("Asia/Tokyo", 20)

    page.goto(reverse("outbox:compose"))
    expect(page.get_by_text("In your time zone, Asia/Tokyo.")).to_be_visible()


def test_suggestions_chips_and_a_pasted_list_reach_the_right_recipients(
    page, live_server, transactional_db, dovecot, smtp_server, mail_account, pki, settings
):
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    now = timezone.now()
    record(user.pk, [Sighting("ann@example.test", "Ann Example", now, written=True)])
    record(user.pk, [Sighting("annabel@example.test", "Annabel Lee", now, written=False)])
    record(UserFactory().pk, [Sighting("anne@secret.example", "Anne Secret", now, written=True)])
    sign_in_browser(page, live_server, user)
    page.goto(reverse("outbox:compose"))

    # The composer's autosave listens for input events on the form: chip changes send one.
    page.evaluate(
        """() => { window.changes = [];
        document.querySelector("form[data-recipients-url]").addEventListener("input", (event) => {
          if (event.target.name) window.changes.push(event.target.name + "=" + event.target.value);
        }); }"""
    )
    # A prefix, the suggestions (the user's own, best first), the arrow keys, Enter.
    to = page.get_by_label("To")
    to.press_sequentially("an")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options).to_have_text(["Ann Example ann@example.test", "Annabel Lee annabel@example.test"])
    to.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    to.press("Enter")
    expect(options).to_have_count(0)
    chips = page.locator(".field", has=page.get_by_label("To")).locator(".chip")
    expect(chips).to_have_count(1)
    chip = chips.first.get_by_role("button", name="Ann Example", exact=True)
    expect(chip).to_have_attribute("title", "Ann Example <ann@example.test>")
    expect(page.locator("input[name=to]")).to_have_value("Ann Example <ann@example.test>")
    assert page.evaluate("window.changes") == ["to=Ann Example <ann@example.test>"]

    # Typed with a comma; Backspace in the empty entry removes the last chip.
    to.press_sequentially("zed@example.test,")
    expect(chips).to_have_count(2)
    to.press("Backspace")
    expect(chips).to_have_count(1)

    # Ctrl+Shift+B goes to Bcc; a pasted list of 50 becomes 50 chips, an invalid one marked.
    page.get_by_label("Subject").click()
    page.keyboard.press("Control+Shift+B")
    bcc = page.get_by_label("Bcc")
    expect(bcc).to_be_focused()
    people = [f"Person {i} <p{i}@example.test>" if i % 2 else f"p{i}@example.test" for i in range(49)]
    pasted = ", ".join(people[:20]) + "; " + "; ".join(people[20:40]) + "\n" + ",".join(people[40:]) + ", bob@"
    page.evaluate(PASTE, pasted)
    bcc_chips = page.locator(".field", has=bcc).locator(".chip")
    expect(bcc_chips).to_have_count(50)
    invalid = bcc_chips.and_(page.locator(".invalid"))
    expect(invalid).to_have_count(1)
    label = invalid.get_by_role("button", name="bob@", exact=True)
    expect(label).to_have_attribute("title", "bob@ has no domain after the @.")
    expect(label).to_have_accessible_description("bob@ has no domain after the @.")

    # The server refuses the invalid one too; nothing is lost.
    page.get_by_label("Subject").fill("Fifty")
    page.get_by_role("button", name="Send").click()
    bcc = page.get_by_label("Bcc")
    expect(page.locator(".field", has=bcc).get_by_role("alert")).to_have_text("This is not a list of email addresses.")
    expect(bcc).to_have_attribute("aria-invalid", "true")
    assert not OutgoingMessage.objects.exists()
    expect(bcc_chips).to_have_count(50)
    invalid.get_by_role("button", name="Remove bob@").click()
    expect(bcc_chips).to_have_count(49)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/outbox/[0-9a-f-]{36}/$"))

    message = OutgoingMessage.objects.get()
    addresses = message.recipients.order_by("address").values_list
    kinds = {kind: list(addresses("address", flat=True).filter(kind=kind)) for kind in RecipientKind.values}
    assert kinds == {
        RecipientKind.TO: ["ann@example.test"],
        RecipientKind.CC: [],
        RecipientKind.BCC: sorted(f"p{i}@example.test" for i in range(49)),
    }
    assert message.recipients.get(address="p1@example.test").display_name == "Person 1"
    deliver_in_a_worker_thread(str(message.pk))
    (received,) = smtp_server.wait_for(1)
    assert sorted(received.rcpt_tos) == sorted(["ann@example.test", *(f"p{i}@example.test" for i in range(49))])
    assert b"p1@example.test" not in received.data  # Bcc stays out of the headers
