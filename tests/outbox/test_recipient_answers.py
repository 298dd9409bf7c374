"""What the server said for each recipient is recorded and shown, accepted ones included."""

from __future__ import annotations

import html as entities

from django.test import Client
from django.urls import reverse

from outbox import delivery
from outbox.models import RecipientState
from tests.helpers import sign_in
from tests.outbox.helpers import queue_message


def recipients_table(page: str) -> str:
    start = page.index(">Recipients</h2>")
    return page[start : page.index(">Delivery log</h2>", start)]


def test_the_message_page_shows_the_answer_that_accepted_each_recipient(sender, smtp_server):
    smtp_server.handler.reject_recipient("nobody@example.test", "550 5.1.1 no such user here")
    message = queue_message(sender, to="ann@example.test, nobody@example.test")
    delivery.deliver(str(message.pk))
    smtp_server.wait_for(1)
    ann = message.recipients.get(address="ann@example.test")
    assert (ann.state, ann.code, ann.enhanced_code, ann.reply) == (
        RecipientState.ACCEPTED,
        250,
        "2.0.0",
        "2.0.0 OK queued",
    )

    page = sign_in(Client(), sender).get(reverse("outbox:detail", args=[message.pk])).content.decode()
    table = entities.unescape(recipients_table(page))
    ann_row = table[table.index("ann@example.test") : table.index("</tr>", table.index("ann@example.test"))]
    assert "250" in ann_row and "2.0.0 OK queued" in ann_row
    nobody_row = table[table.index("nobody@example.test") :]
    assert "5.1.1 no such user here" in nobody_row


def test_the_message_page_says_what_happened_in_words_and_keeps_the_log_behind_a_click(sender, smtp_server):
    smtp_server.handler.reject_recipient("nobody@example.test", "550 5.1.1 no such user here")
    message = queue_message(sender, to="ann@example.test, nobody@example.test")
    delivery.deliver(str(message.pk))
    smtp_server.wait_for(1)
    client = sign_in(Client(), sender)
    page = entities.unescape(client.get(reverse("outbox:detail", args=[message.pk])).content.decode())
    table = recipients_table(page)
    assert "Your mail server accepted it and delivers it from there." in table
    assert "Your mail server refused it: it was not sent to this address." in table
    assert "“5.1.1 no such user here”" in table
    assert "RCPT TO" not in table, "the SMTP steps are in the log"
    log = page[page.index('<section class="panel delivery-log">') :]
    assert log.index("<details>") < log.index(">Delivery log</h2>") < log.index("RCPT TO") < log.index("</details>")
    # The page's poll brings the log too, swapped in place so that an open <details> stays open.
    partial = client.get(reverse("outbox:detail", args=[message.pk]), headers={"HX-Request": "true"}).content.decode()
    assert '<div id="delivery-log" hx-swap-oob="true">' in partial and "RCPT TO" in partial
    assert "<details>" not in partial
