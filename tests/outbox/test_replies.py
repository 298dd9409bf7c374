"""Answering a message: recipients, identity, subject, thread headers and quote (outbox.replies),
without a database or a server; the composer page and the sent headers are in test_answer_flow.py."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from accounts.models import Identity
from outbox.replies import How, answer, forward_subject, read_original, recipients, references, reply_subject

ZONE = ZoneInfo("Europe/Berlin")
MINE = ["me@example.test", "Me.Too@Example.Test"]


def original(text: str = "Hello,\nsee you.", html: str = "", **headers: str) -> bytes:
    message = EmailMessage()
    defaults = {
        "From": "Ann Author <ann@example.org>",
        "To": "me@example.test",
        "Subject": "Plans",
        "Message-ID": "<m1@example.org>",
        "Date": format_datetime(datetime(2026, 11, 30, 9, 15, tzinfo=UTC)),
    }
    for name, value in (defaults | headers).items():
        if value:
            message[name.replace("_", "-")] = value
    if html:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text)
    return message.as_bytes()


def parsed(raw: bytes, html: str = ""):
    from webmail.mailbox.message import read

    body = read(raw)
    return read_original(raw, body.text_body, body.html_body)


def addresses(mailboxes) -> list[str]:
    return [m.address for m in mailboxes]


def identities() -> list[Identity]:
    return [
        Identity(pk=1, address="me@example.test", display_name="Me", is_default=True),
        Identity(pk=2, address="me.too@example.test", display_name="Me too", is_default=False),
    ]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plans", "Re: Plans"),
        ("Re: Plans", "Re: Plans"),
        ("RE: Re: re:Plans", "Re: Plans"),
        ("AW: SV: Antw: Plans", "Re: Plans"),
        ("Re[2]: Plans", "Re: Plans"),
        ("Fwd: Plans", "Re: Fwd: Plans"),
        ("", "Re: "),
    ],
)
def test_a_reply_has_one_re(subject, expected):
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plans", "Fwd: Plans"),
        ("Fwd: FW: Plans", "Fwd: Plans"),
        ("WG: Plans", "Fwd: Plans"),
        ("Re: Plans", "Fwd: Re: Plans"),
    ],
)
def test_a_forward_has_one_fwd(subject, expected):
    assert forward_subject(subject) == expected


def test_reply_goes_to_reply_to_else_from():
    assert addresses(recipients(parsed(original()), MINE, How.REPLY)[0]) == ["ann@example.org"]
    raw = original(Reply_To="Desk <desk@example.org>")
    to, cc = recipients(parsed(raw), MINE, How.REPLY)
    assert (addresses(to), cc) == (["desk@example.org"], [])


def test_reply_all_adds_to_and_cc_without_my_addresses_or_duplicates():
    raw = original(
        To="me@example.test, Bob <bob@EXAMPLE.org>, ME.TOO@example.test",
        Cc="bob@example.org, carol@bücher.example, ann@example.org, carol@xn--bcher-kva.example",
    )
    to, cc = recipients(parsed(raw), MINE, How.REPLY_ALL)
    assert addresses(to) == ["ann@example.org"]
    assert addresses(cc) == ["bob@example.org", "carol@xn--bcher-kva.example"]


def test_answering_my_own_message_goes_to_its_recipients():
    raw = original(From="Me <me@example.test>", To="Ann <ann@example.org>", Cc="bob@example.org, me@example.test")
    assert addresses(recipients(parsed(raw), MINE, How.REPLY)[0]) == ["ann@example.org"]
    to, cc = recipients(parsed(raw), MINE, How.REPLY_ALL)
    assert (addresses(to), addresses(cc)) == (["ann@example.org"], ["bob@example.org"])


def test_reply_all_to_a_list_message_goes_to_the_list():
    raw = original(To="team@lists.example.org", List_Post="<mailto:team@lists.example.org>", List_Id="<team.example>")
    to, cc = recipients(parsed(raw), MINE, How.REPLY_ALL)
    assert (addresses(to), addresses(cc)) == (["team@lists.example.org"], ["ann@example.org"])
    assert addresses(recipients(parsed(raw), MINE, How.REPLY)[0]) == ["ann@example.org"]


def test_the_identity_is_the_one_the_message_was_addressed_to():
    mine = identities()
    assert (
        answer(parsed(original(To="x@example.org", Cc="Me.Too@example.test")), mine, How.REPLY, ZONE).identity.pk == 2
    )
    assert (
        answer(
            parsed(original(To="x@example.org", Delivered_To="me.too@example.test")), mine, How.REPLY, ZONE
        ).identity.pk
        == 2
    )
    assert answer(parsed(original(To="list@example.org")), mine, How.REPLY, ZONE).identity.pk == 1  # the default


def test_the_thread_headers_name_the_original():
    raw = original(References="<root@x> <r2@x>", In_Reply_To="<r2@x>")
    reply = answer(parsed(raw), identities(), How.REPLY, ZONE)
    assert (reply.in_reply_to, reply.references) == ("<m1@example.org>", "<root@x> <r2@x> <m1@example.org>")
    assert answer(parsed(original()), identities(), How.REPLY, ZONE).references == "<m1@example.org>"
    assert answer(parsed(raw), identities(), How.FORWARD, ZONE).in_reply_to == ""


def test_a_long_references_keeps_the_root_and_the_newest():
    chain = " ".join(f"<r{i}@x>" for i in range(40))
    kept = references(parsed(original(References=chain))).split()
    assert len(kept) == 20 and kept[0] == "<r0@x>" and kept[-2:] == ["<r39@x>", "<m1@example.org>"]


def test_the_quote_has_an_attribution_and_the_cursor_room_above():
    with translation.override("en"):
        body = answer(parsed(original(text="Hello,\n\n> older\nsee you.")), identities(), How.REPLY, ZONE).body
    assert body.startswith("\n\nOn ") and "Ann Author wrote:\n" in body
    assert "Nov. 30, 2026, 10:15 a.m." in body  # the user's time zone: 09:15 UTC is 10:15 in Berlin
    assert body.endswith("> Hello,\n>\n>> older\n> see you.\n")


def test_an_html_only_message_is_quoted_as_its_text():
    html = "<p>Hello <b>Ann</b></p><script>alert('x')</script><style>p{color:red}</style><ul><li>one</li></ul>"
    body = answer(parsed(original(html=html)), identities(), How.REPLY, ZONE).body
    assert "> Hello Ann" in body and "one" in body
    assert "<" not in body.split("wrote:")[1] and "alert" not in body and "color" not in body


def test_a_forward_carries_a_header_block_and_the_text():
    with translation.override("en"):
        forward = answer(parsed(original(Cc="bob@example.org")), identities(), How.FORWARD, ZONE)
    assert (forward.to, forward.cc, forward.subject) == ([], [], "Fwd: Plans")
    assert "From: Ann Author <ann@example.org>\n" in forward.body and "Cc: bob@example.org\n" in forward.body
    assert "Subject: Plans\n" in forward.body and forward.body.rstrip().endswith("see you.")
