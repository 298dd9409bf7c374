"""Signatures: in the body from the start, swapped on the server for the chosen sender, and the
page where a person edits their own."""

from __future__ import annotations

import email
import email.policy

import pytest
from django.urls import reverse

from outbox.models import OutgoingMessage
from outbox.signatures import settle_html, settle_text
from tests.factories import IdentityFactory, MailAccountFactory
from tests.helpers import sign_in


@pytest.fixture
def two(teammate):
    account = MailAccountFactory(user=teammate)
    sales = IdentityFactory(user=teammate, account=account, address="sales@example.test", signature="Sales team")
    help_ = IdentityFactory(
        user=teammate,
        account=account,
        address="help@example.test",
        signature="Help",
        is_default=False,
        signature_html="<b>Help</b> desk<script>x()</script>",
    )
    return sales, help_


def test_the_composer_opens_with_the_default_signature_once(client, teammate, two):
    page = sign_in(client, teammate).get(reverse("outbox:compose"))
    html = page.content.decode()
    assert page.context["form"]["body"].value() == "\n\n-- \nSales team"
    assert html.count('data-signature="-- \nSales team"') == 1  # on its <option>, for the swap
    assert "&lt;b&gt;Help&lt;/b&gt; desk" in html and "x()" not in html


def test_the_server_swaps_another_identitys_signature(two):
    _sales, help_ = two
    assert settle_text("Hi\n\n-- \nSales team", help_, two) == "Hi\n\n-- \nHelp"
    assert settle_text("Hi\n\n-- \nHelp", help_, two) == "Hi\n\n-- \nHelp"
    assert settle_text("Hi\n\n-- \nSales team, edited", help_, two) == "Hi\n\n-- \nSales team, edited"
    html = settle_html(
        '<div>Hi</div><div data-signature="">-- <br>Sales team</div><blockquote>q</blockquote>', help_, two
    )
    assert html.count("data-signature") == 1 and "<b>Help</b> desk" in html and "Sales" not in html
    assert html.index("Help") < html.index("<blockquote>")


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])  # a browser posts a textarea with CRLF
def test_a_no_javascript_user_changing_sender_gets_the_right_signature(client, teammate, two, settings, line_end):
    settings.WEBMAIL_UNDO_SECONDS = 60
    _sales, help_ = two
    body = "Hi\n\n-- \nSales team".replace("\n", line_end)
    response = sign_in(client, teammate).post(
        reverse("outbox:compose"), {"identity": help_.pk, "to": "ann@example.test", "subject": "S", "body": body}
    )
    assert response.status_code == 302
    mime = email.message_from_bytes(bytes(OutgoingMessage.objects.get().mime), policy=email.policy.default)
    assert mime.get_content().replace("\r\n", "\n") == "Hi\n\n-- \nHelp\n"


def test_a_person_edits_their_own_signature_and_no_one_elses(client, teammate, stranger, two):
    sales, _help = two
    other = IdentityFactory(user=stranger, account=MailAccountFactory(user=stranger), address="s@example.test")
    client = sign_in(client, teammate)
    settings_page = client.get(reverse("accounts:settings")).content.decode()
    assert reverse("outbox:signature", args=[sales.pk]) in settings_page
    assert client.get(reverse("outbox:signature", args=[other.pk])).status_code == 404
    assert client.post(reverse("outbox:signature", args=[other.pk]), {"signature": "x"}).status_code == 404
    response = client.post(
        reverse("outbox:signature", args=[sales.pk]),
        {
            "signature": "Sally\r\nSales",
            "signature_html": '<b>Sally</b><img src="data:image/png;base64,AAAA"><a href="javascript:x">j</a>',
        },
    )
    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.signature == "Sally\nSales"
    assert sales.signature_html == '<b>Sally</b><a rel="noopener noreferrer">j</a>'


def test_a_signature_too_long_is_refused_and_kept(client, teammate, two):
    sales, _help = two
    response = sign_in(client, teammate).post(reverse("outbox:signature", args=[sales.pk]), {"signature": "x" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert response.context["form"]["signature"].value() == "x" * 2001
    sales.refresh_from_db()
    assert sales.signature == "Sales team"
