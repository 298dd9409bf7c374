"""webmail.protocol.resync: the quick reading of FETCH responses gives exactly what imapclient's does,
or gives up; UID sets, VANISHED and flag reports are parsed strictly or not used."""

from __future__ import annotations

from pathlib import Path

import pytest
from imapclient.imapclient import seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

from tests.webmail.helpers import make_message
from webmail.mailbox import sync
from webmail.protocol import imap, resync

CORPUS = Path(__file__).parent.parent  # the hostile corpus lives in tests/webmail/

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
    for path in sorted((CORPUS / "hostile_eml").glob("*.eml")) + sorted((CORPUS / "hostile").glob("*.eml")):
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


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        (b"7", [(7, 7)]),
        (b"3,7:9,12", [(3, 3), (7, 9), (12, 12)]),
        (b"9:7,8,10,1", [(1, 1), (7, 10)]),
        (b"4294967295", [(4294967295, 4294967295)]),
    ],
)
def test_a_uid_set_is_parsed_into_merged_ranges(text, ranges):
    assert resync.parse_uid_set(text) == ranges


@pytest.mark.parametrize(
    "text",
    [b"", b"0", b"1:*", b"*", b"4294967296", b"1,,2", b"1:2:3", b"-1", b"1 2", b"12345678901", b"1:0", b"\xff"],
)
def test_anything_else_is_not_a_uid_set(text):
    assert resync.parse_uid_set(text) is None


def test_a_vanished_report_is_used_whole_or_not_at_all():
    assert resync._vanished_ranges([b"(EARLIER) 1:3,9", b"5"]) == [(1, 3), (5, 5), (9, 9)]
    assert resync._vanished_ranges([b"(EARLIER) 1:3", b"(EARLIER) 4:*"]) is None
    assert resync._vanished_ranges([b"(EARLIER) 1:3 and more"]) is None
    assert resync._vanished_ranges([(b"(EARLIER) {3}", b"1:3")]) is None  # a literal where a set belongs


def test_flag_reports_without_a_uid_are_not_used():
    assert resync._flag_changes([b"2 (UID 3 FLAGS (\\Seen) MODSEQ (9))"]) == {
        3: {b"FLAGS": (b"\\Seen",), b"MODSEQ": (9,)}
    }
    assert resync._flag_changes([b"2 (FLAGS (\\Seen) MODSEQ (9))"]) is None
    assert resync._flag_changes([b"2 (UID 0 FLAGS (\\Seen))"]) is None
    assert resync._flag_changes([b"2 (UID 3 FLAGS \\Seen)"]) is None
    assert resync._flag_changes([b"2 (UID 3 FLAGS (\\Seen)"]) is None
