"""The quick reading of FETCH responses gives exactly what imapclient's does, or gives up."""

from __future__ import annotations

from pathlib import Path

import pytest
from imapclient.imapclient import seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

from tests.webmail.helpers import make_message
from webmail.mailbox import sync
from webmail.protocol import imap, resync

HERE = Path(__file__).parent

AWKWARD = [
    # Quotes and backslashes in a quoted string, an empty display name, group syntax.
    b'From: "Ann \\"the boss\\" O\'Neil" <ann@example.test>\r\nTo: undisclosed-recipients:;\r\n'
    b'Cc: "" <empty@example.test>, Team: a@example.test, b@example.test;\r\n'
    b'Subject: back\\slash and "quotes" and (parens)\r\n\r\nx\r\n',
    # 8-bit header bytes (sent as literals), a folded Subject, no Date, no Message-ID.
    "From: Jos\u00e9 M\u00fcller <jose@example.test>\r\nSubject: caf\u00e9\r\n  continued\r\n\r\nx\r\n".encode(),
    # No headers at all.
    b"\r\njust a body\r\n",
    # Encoded words, References on several lines, In-Reply-To, a multipart Content-Type.
    b"From: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <g@example.test>\r\nSubject: =?iso-8859-1?q?Caf=E9?=\r\n"
    b"In-Reply-To: <a@x>\r\nReferences: <a@x>\r\n <b@x>\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b--\r\n',
    # A very long Subject (Dovecot may send it as a literal).
    b"Subject: " + b"long " * 400 + b"\r\n\r\nx\r\n",
]


def test_the_quick_reading_matches_imapclient_on_real_responses(reader, dovecot):
    for n in range(1, 4):
        dovecot.deliver(reader.user.email, make_message(n), flags=["\\Seen", "$Forwarded"] if n == 2 else [])
    for raw in AWKWARD:
        dovecot.deliver(reader.user.email, raw)
    for path in sorted((HERE / "hostile_eml").glob("*.eml")) + sorted((HERE / "hostile").glob("*.eml")):
        dovecot.deliver(reader.user.email, path.read_bytes())
    with imap.logged_in(reader) as client:
        client.select_folder("INBOX", readonly=True)
        connection = client._imap
        items = seq_to_parenstr_upper([*sync.ENVELOPE_ITEMS, b"MODSEQ"])
        connection._command_complete("FETCH", connection._command("UID", "FETCH", "1:*", items))
        _typ, data = connection._untagged_response("OK", [None], "FETCH")
    expected = parse_fetch_response(data, True, uid_is_key=False)
    assert len(expected) > 20
    assert resync.parse_fetch(data) == dict(expected)
    assert any(isinstance(line, tuple) for line in data), "literals were part of the test"


@pytest.mark.parametrize(
    "data",
    [
        [b"1 (UID 5 FLAGS (\\Seen)"],  # unclosed
        [b"1 (UID 5 FLAGS (\\Seen)))"],  # closed once too often
        [b"1 (UID 5 FLAGS (\\Seen)) 2"],  # a number without its items
        [b'1 (UID 5 FLAGS (\\Seen) INTERNALDATE "1-Jan-2020 00:00:00 +0000")'],  # converted by imapclient
        [(b"1 (UID 5 BODY[] {5}", b"abc"), b")"],  # a literal of the wrong size
        [b"1 (UID 5 BODY[] {3})"],  # a literal announced but none read
        [b"1 (UID 5 FLAGS (foo[bar))"],  # an unclosed bracket in an atom
        [b"1 (UID x FLAGS ())"],  # a UID that is not a number
        [b"1 (UID 5 ENVELOPE (NIL))"],  # an envelope of one field
        [b"x (UID 5)"],
        [12],
    ],
)
def test_what_it_is_not_sure_of_is_left_to_imapclient(data):
    assert resync.parse_fetch(data) is None


def test_a_literal_in_the_middle_of_a_response_continues_on_the_next_line():
    data = [(b"1 (UID 7 ENVELOPE (NIL {4}", b"caf\xe9"), b" NIL NIL NIL NIL NIL NIL NIL NIL) FLAGS ())"]
    parsed = resync.parse_fetch(data)
    assert parsed == dict(parse_fetch_response(data, True, uid_is_key=False))
    assert parsed[1][b"ENVELOPE"].subject == b"caf\xe9" and parsed[1][b"UID"] == 7


def test_the_newest_by_sequence_number_are_what_imapclient_fetches_keyed_by_uid(reader, dovecot):
    for n in range(1, 6):
        dovecot.deliver(reader.user.email, make_message(n))
    with imap.logged_in(reader) as client:
        exists = client.select_folder("INBOX", readonly=True)[b"EXISTS"]
        quick = resync.fetch_sequence_range(client, exists - 2, exists, sync.ENVELOPE_ITEMS)
        client.use_uid = False
        try:
            plain = client.fetch(list(range(exists - 2, exists + 1)), sync.ENVELOPE_ITEMS)
        finally:
            client.use_uid = True
        with pytest.raises(imap.UnsafeArgument):
            resync.fetch_sequence_range(client, 0, exists, sync.ENVELOPE_ITEMS)
    assert quick == {data[b"UID"]: data for data in plain.values()}
    assert len(quick) == 3
