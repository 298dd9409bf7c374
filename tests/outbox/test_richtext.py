"""Composed HTML: cleaned on the server, its plain-text twin, format=flowed, the MIME shapes, and
a rich message through the real submission server."""

from __future__ import annotations

import base64
import email
import email.policy

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox import delivery
from outbox.bodies import flowed
from outbox.compose import Attachment, Draft, build_mime, estimated_size, parse_addresses
from outbox.models import OutgoingMessage
from outbox.richtext import inline_images, plain_text, sanitize_composed
from tests.factories import IdentityFactory, MailAccountFactory
from tests.helpers import sign_in
from tests.outbox.test_compose import header_names

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
PNG_IMG = f'<img src="data:image/png;base64,{PNG}" alt="dot">'


@pytest.fixture
def identity(teammate):
    account = MailAccountFactory(user=teammate)
    return IdentityFactory(user=teammate, account=account, address="tom@example.test", display_name="Tom Teammate")


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


# -- sanitize_composed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hostile", "never"),
    [
        ("<script>alert(1)</script>", "alert"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<b onclick="alert(1)" onmouseover="x()">b</b>', "on"),
        ('<p style="background:url(https://evil.example/t.gif)">p</p>', "style"),
        ('<p class="topnav">p</p>', "class"),
        ('<img src="https://evil.example/track.gif">', "evil"),
        ('<img src="//evil.example/track.gif">', "evil"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', "script"),
        ('<link rel="stylesheet" href="https://evil.example/s.css">', "evil"),
        ("<style>@import url(https://evil.example/s.css); p { color: red }</style>", "evil"),
        ('<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', "data:"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
        ('<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">', "svg"),
        ('<iframe src="https://evil.example/"></iframe>', "iframe"),
        ('<form action="https://evil.example/"><input name="x"></form>', "form"),
        ('<div id="csrf" data-hx-post="/x" hx-get="/y">d</div>', "hx"),
        ("<svg><script>alert(1)</script></svg>", "alert"),
    ],
)
def test_hostile_html_does_not_survive(hostile, never):
    assert never not in sanitize_composed(f"<div>before</div>{hostile}<div>after</div>")


def test_what_the_toolbar_makes_survives():
    html = (
        '<div><b>b</b> <i>i</i> <u>u</u> <a href="https://example.org/">l</a> '
        '<a href="mailto:a@example.org">m</a></div>'
        '<ul><li>one</li></ul><ol><li>two</li></ol><blockquote type="cite"><div>q</div></blockquote>'
        f'<div data-signature="">-- <br>Tom</div>{PNG_IMG}'
    )
    cleaned = sanitize_composed(html)
    for kept in (
        "<b>b</b>",
        "<i>i</i>",
        "<u>u</u>",
        'href="https://example.org/"',
        'href="mailto:a@example.org"',
        "<ul><li>one</li></ul>",
        "<ol>",
        '<blockquote type="cite">',
        "data-signature",
        f"base64,{PNG}",
    ):
        assert kept in cleaned
    assert 'rel="noopener noreferrer"' in cleaned


def test_images_are_refused_where_they_have_no_place():
    assert "<img" not in sanitize_composed(PNG_IMG, images=False)  # a signature
    assert "<img" not in sanitize_composed('<img src="cid:x@y">')  # a cid: the browser made up
    assert 'src="cid:x@y"' in sanitize_composed('<img src="cid:x@y">', cid=True)


def test_a_data_url_that_is_not_the_image_it_says_is_dropped():
    fake = base64.b64encode(b"<html><script>alert(1)</script></html>").decode()
    html, images = inline_images(sanitize_composed(f'<div>x</div><img src="data:image/png;base64,{fake}">'), "e.test")
    assert images == [] and "<img" not in html


def test_pasted_images_become_inline_parts_once_each():
    html, images = inline_images(sanitize_composed(f"<div>{PNG_IMG}{PNG_IMG}</div>"), "example.test")
    assert len(images) == 1 and images[0].data == base64.b64decode(PNG)
    assert html.count(f'src="cid:{images[0].cid}"') == 2 and "data:" not in html


# -- plain_text -----------------------------------------------------------------------------------


def test_links_show_their_address_when_it_is_not_their_text():
    text = plain_text(
        '<div>See <a href="https://example.org/a">the page</a>, https://example.org/b as '
        '<a href="https://example.org/b">https://example.org/b</a>, or <a href="mailto:ann@example.org">Ann</a>.</div>'
    )
    assert text == (
        "See the page <https://example.org/a>, https://example.org/b as https://example.org/b, "
        "or Ann <ann@example.org>.\n"
    )


def test_quotes_are_prefixed_and_nested_quotes_twice():
    text = plain_text(
        '<div>Yes.</div><div>On Monday, Ann wrote:</div><blockquote type="cite"><div>Coming?</div>'
        '<blockquote type="cite"><div>Party at 8</div></blockquote><div><br></div><div>Ann</div></blockquote>'
    )
    assert text == "Yes.\nOn Monday, Ann wrote:\n> Coming?\n> > Party at 8\n>\n> Ann\n"


def test_lists_and_the_signature_separator():
    text = plain_text(
        "<div>Buy:</div><ul><li>milk</li><li>bread</li></ul><ol><li>first</li><li>second</li></ol>"
        '<div><br></div><div data-signature="">-- <br>Tom<br>Example Ltd</div>'
    )
    assert text == "Buy:\n  * milk\n  * bread\n 1. first\n 2. second\n\n-- \nTom\nExample Ltd\n"


# -- format=flowed --------------------------------------------------------------------------------


def test_flowed_breaks_long_lines_softly_and_stuffs_what_needs_it():
    long = " ".join(["word"] * 40)
    lines = flowed(f"{long}\nFrom here\n indented\ntrailing   \n-- \nTom").split("\n")
    assert all(len(line) <= 78 for line in lines)
    soft = [line for line in lines if line.endswith(" ") and line != "-- "]
    assert "".join(soft) + lines[len(soft)] == long, "soft breaks rejoin to the line"
    assert " From here" in lines and "  indented" in lines and "trailing" in lines
    assert lines[-2:] == ["-- ", "Tom"]


def test_flowed_quotes_repeat_their_markers_and_are_not_stuffed():
    long = " ".join(["quoted"] * 20)
    lines = flowed(f"> {long}\n> > deeper\n>\n").split("\n")
    assert lines[0].startswith("> quoted") and lines[1].startswith("> quoted") and lines[0].endswith(" ")
    # RFC 3676 4.5: the quote depth is the number of ">" in a row; "> > " would read as depth one.
    assert ">> deeper" in lines and ">" in lines
    unquoted = flowed(" ".join(["From"] * 30)).split("\n")
    assert all(len(line) <= 78 for line in [*lines, *unquoted]), "a stuffing space still fits in 78"


# -- build_mime -----------------------------------------------------------------------------------


def draft_of(identity, **fields) -> Draft:
    return Draft(identity=identity, to=parse_addresses("ann@example.test"), subject="Hi", **fields)


def test_a_plain_message_is_one_flowed_text_part(identity):
    message = parsed(build_mime(draft_of(identity, body="Hello\n\n-- \nTom\n"), now=timezone.now())[0])
    assert message.get_content_type() == "text/plain"
    assert message.get_param("format") == "flowed"
    assert message.get_content().replace("\r\n", "\n") == "Hello\n\n-- \nTom\n"


def test_a_rich_message_is_alternative_text_first_then_html(identity):
    html = '<div><b>Hello</b> <a href="https://example.org/">there</a></div>'
    raw, _id = build_mime(draft_of(identity, body=plain_text(html), html=html), now=timezone.now())
    message = parsed(raw)
    assert message.get_content_type() == "multipart/alternative"
    text, rich = message.get_payload()
    assert (text.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert text.get_param("format") == "flowed"
    assert "Hello there <https://example.org/>" in text.get_content()
    assert "<b>Hello</b>" in rich.get_content()
    assert set(header_names(raw)) <= {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}


def test_inline_images_wrap_the_html_in_related_and_attachments_in_mixed(identity):
    html = sanitize_composed(f"<div>Look:</div><div>{PNG_IMG}</div>")
    draft = draft_of(identity, body="Look:\n", html=html, attachments=[Attachment("a.pdf", "application/pdf", b"%PDF")])
    message = parsed(build_mime(draft, now=timezone.now())[0])
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert attachment.get_filename() == "a.pdf"
    text, related = alternative.get_payload()
    assert text.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    rich, image = related.get_payload()
    assert rich.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert image.get_content() == base64.b64decode(PNG)
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in rich.get_content() and "data:" not in rich.get_content()


def test_the_size_estimate_counts_the_html_and_its_images():
    image = "A" * 30_000
    html = f'<div>x</div><img src="data:image/png;base64,{image}">'
    assert estimated_size("x\n", [], html) >= 2 + len("<div>x</div>") + len(image)


# -- through the composer and the real submission server ------------------------------------------


def test_a_rich_message_arrives_as_written_and_cleaned(sender, smtp_server):
    client = sign_in(Client(), sender)
    hostile = '<script>alert("x")</script><img src="x" onerror="alert(1)"><p style="color:red">styled</p>'
    html = f"<div>Hello <b>Ann</b></div>{hostile}<div>{PNG_IMG}</div>"
    response = client.post(
        reverse("outbox:compose"),
        {
            "identity": sender.identities.get().pk,
            "to": "ann@example.test",
            "subject": "Rich",
            "body": "ignored when there is HTML",
            "body_html": html,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    message = OutgoingMessage.objects.get(user=sender)
    delivery.deliver(str(message.pk))
    received = smtp_server.wait_for(1)[0].data
    mime = parsed(received)
    text, related = mime.get_payload()
    rich, image = related.get_payload()
    decoded = text.get_content() + rich.get_content()  # the parts may be quoted-printable or base64
    for never in ("script", "onerror", "alert", "style=", "ignored when"):
        assert never not in decoded
    assert "Hello Ann" in text.get_content() and "styled" in text.get_content()
    assert "<b>Ann</b>" in rich.get_content()
    assert f"cid:{image['Content-ID'].strip('<>')}" in rich.get_content()


def test_a_quoted_table_keeps_its_rows_and_loses_everything_else():
    html = sanitize_composed(
        '<table style="width:900px" background="https://tracker.example/x.gif"><tr>'
        '<td colspan="2" onclick="steal()">Item</td><td rowspan="100000">Total</td></tr>'
        "<tr><td>Tea</td><td>2</td><td>4.00</td></tr></table>"
    )
    assert html == (
        '<table><tbody><tr><td colspan="2">Item</td><td>Total</td></tr>'
        "<tr><td>Tea</td><td>2</td><td>4.00</td></tr></tbody></table>"
    )
    assert plain_text(html).split("\n")[1].split() == ["Tea", "2", "4.00"]
