"""From typed text to stored bytes: strict address parsing and headers that say exactly what was meant."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from outbox.compose import Attachment, Draft, Mailbox, build_mime, parse_addresses
from outbox.models import OutgoingMessage
from outbox.sending import SendRefused, enqueue
from tests.factories import IdentityFactory, MailAccountFactory


@pytest.fixture
def identity(teammate):
    account = MailAccountFactory(user=teammate)
    return IdentityFactory(user=teammate, account=account, address="tom@example.test", display_name="Tom Teammate")


def header_names(raw: bytes) -> list[str]:
    return [name.lower() for name in BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)]


def mime_of(identity, **fields) -> bytes:
    draft = Draft(identity=identity, to=parse_addresses(fields.pop("to", "ann@example.test")), **fields)
    raw, _message_id = build_mime(draft, now=timezone.now())
    return raw


# -- parse_addresses --------------------------------------------------------------------------


def test_plain_and_named_addresses_are_parsed():
    assert parse_addresses('Ann <ann@example.test>, bob@example.test, "Doe, Jane" <jane@example.test>') == [
        Mailbox("Ann", "ann@example.test"),
        Mailbox("", "bob@example.test"),
        Mailbox("Doe, Jane", "jane@example.test"),
    ]


def test_an_empty_field_is_no_addresses():
    assert parse_addresses("  ") == []
    assert parse_addresses(" , ") == []


def test_an_idn_domain_is_stored_in_its_ascii_form():
    assert parse_addresses("José <jose@bücher.example>") == [Mailbox("José", "jose@xn--bcher-kva.example")]


@pytest.mark.parametrize(
    "raw",
    [
        "ann@example.test\r\nBcc: evil@example.test",
        "ann@example.test\nBcc: evil@example.test",
        "Ann\x00 <ann@example.test>",
        "=?utf-8?q?a=0D=0ABcc:_evil@x.test?= <a@example.test>",
        "=?utf-8?b?YQ0KQmNjOiBldmlsQHgudGVzdA==?= <a@example.test>",
        "=?utf-8?b?4oCo?= <a@example.test>",
        "=?utf-8?q?Ann=E2=80=A9?= <a@example.test>",
        "bob@",
        "not an address",
        "Ann <ann@example.test",
        "team: a@example.test, b@example.test;",
        "jösé@example.test",
        "a@-bad-.test",
    ],
)
def test_bad_address_lists_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_addresses(raw)


@pytest.mark.parametrize("raw", ["jörg@example.test", "Ann <ann@example.test>, Jörg <jörg@bücher.example>"])
def test_a_non_ascii_local_part_is_explained_as_needing_smtputf8(raw):
    with pytest.raises(ValidationError) as refused:
        parse_addresses(raw)
    (message,) = refused.value.messages
    assert message.startswith("jörg@")
    assert "needs SMTPUTF8" in message and "cannot send to such addresses yet" in message


# -- build_mime -------------------------------------------------------------------------------


def test_the_headers_appear_once_each_and_bcc_not_at_all(identity):
    draft = Draft(
        identity=identity,
        to=parse_addresses("Ann <ann@example.test>"),
        cc=parse_addresses("carol@example.test"),
        bcc=parse_addresses("Hidden <hidden@example.test>"),
        subject="Plans",
        body="Hello",
    )
    raw, message_id = build_mime(draft, now=timezone.now())
    names = header_names(raw)
    for name in ("from", "to", "cc", "subject", "date", "message-id", "mime-version"):
        assert names.count(name) == 1, name
    assert "bcc" not in names
    assert b"hidden@example.test" not in raw and b"Hidden" not in raw
    assert email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] == message_id
    assert message_id.endswith("@example.test>")


def test_a_subject_that_looks_like_a_header_stays_one_subject(identity):
    # Only text without line breaks gets this far; a colon and a header name in it are just text.
    raw = mime_of(identity, subject="Re: Bcc: evil@example.test")
    assert header_names(raw).count("subject") == 1
    assert "bcc" not in header_names(raw)


def test_a_non_ascii_subject_is_encoded_and_the_bytes_are_ascii(identity):
    raw = mime_of(identity, subject="Grüße aus Köln", body="Schöne Grüße")
    raw.decode("ascii")  # 7bit throughout: encoded words and quoted-printable/base64 bodies
    subject_line = next(line for line in raw.split(b"\r\n") if line.lower().startswith(b"subject:"))
    assert b"=?utf-8?" in subject_line.lower()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße aus Köln"
    assert parsed.get_content().startswith("Schöne Grüße")


def test_an_idn_recipient_is_written_in_ascii(identity):
    raw = mime_of(identity, to="José <jose@bücher.example>")
    to_line = next(line for line in raw.split(b"\r\n") if line.lower().startswith(b"to:"))
    assert b"jose@xn--bcher-kva.example" in to_line
    assert "bücher".encode() not in raw


def test_no_recipients_in_to_or_cc_means_undisclosed_recipients(identity):
    draft = Draft(identity=identity, to=[], bcc=parse_addresses("hidden@example.test"))
    raw, _message_id = build_mime(draft, now=timezone.now())
    assert b"undisclosed-recipients:;" in raw
    assert b"hidden@example.test" not in raw


def test_an_attachment_name_is_encoded_not_injected(identity):
    draft = Draft(
        identity=identity,
        to=parse_addresses("ann@example.test"),
        attachments=[Attachment("Bericht für Köln.pdf", "application/pdf", b"%PDF-1.4")],
    )
    raw, _message_id = build_mime(draft, now=timezone.now())
    raw.decode("ascii")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    (part,) = parsed.iter_attachments()
    assert part.get_filename() == "Bericht für Köln.pdf"
    assert part.get_content_type() == "application/pdf"


def test_the_signature_is_not_appended_the_body_already_has_it(identity):
    # The composer puts it in the body, editable (outbox.signatures); tests/outbox/test_signatures.py.
    identity.signature = "Tom\nExample Ltd"
    identity.save()
    parsed = email.message_from_bytes(mime_of(identity, body="Hi"), policy=email.policy.default)
    assert parsed.get_content().replace("\r\n", "\n") == "Hi\n"


# -- enqueue ----------------------------------------------------------------------------------


def test_enqueue_stores_the_bytes_and_each_recipient_once(identity, teammate):
    draft = Draft(
        identity=identity,
        to=parse_addresses("Ann <ann@example.test>, ANN@example.test"),
        bcc=parse_addresses("ann@example.test, hidden@example.test"),
        subject="Hello",
    )
    message = enqueue(teammate, draft)
    assert list(message.recipients.values_list("address", "kind")) == [
        ("ann@example.test", "to"),
        ("hidden@example.test", "bcc"),
    ]
    raw = bytes(message.mime)
    assert message.size == len(raw)
    assert header_names(raw).count("message-id") == 1 and header_names(raw).count("date") == 1
    assert email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] == message.message_id


def test_enqueue_refuses_someone_elses_address(identity, stranger):
    with pytest.raises(SendRefused):
        enqueue(stranger, Draft(identity=identity, to=parse_addresses("ann@example.test")))
    assert OutgoingMessage.objects.count() == 0


def test_enqueue_refuses_a_message_without_recipients(identity, teammate):
    with pytest.raises(SendRefused):
        enqueue(teammate, Draft(identity=identity, to=[]))
    assert OutgoingMessage.objects.count() == 0


def test_duplicates_do_not_count_towards_the_recipient_limit(identity, teammate, settings):
    settings.WEBMAIL_MAX_RECIPIENTS = 2
    draft = Draft(
        identity=identity,
        to=parse_addresses("Ann <ann@example.test>, ann@EXAMPLE.test, bob@example.test"),
        cc=parse_addresses("ANN@example.test, bob@example.test"),
        bcc=parse_addresses("bob@example.test"),
    )
    message = enqueue(teammate, draft)
    assert list(message.recipients.values_list("address", "kind")) == [
        ("ann@example.test", "to"),
        ("bob@example.test", "to"),
    ]
    parsed = email.message_from_bytes(bytes(message.mime), policy=email.policy.default)
    assert parsed["To"] == "Ann <ann@example.test>, bob@example.test"
    assert "Cc" not in parsed, "a recipient already in To is not repeated in Cc"


def test_the_recipient_limit_counts_distinct_addresses(identity, teammate, settings):
    settings.WEBMAIL_MAX_RECIPIENTS = 2
    draft = Draft(
        identity=identity, to=parse_addresses("a@example.test, b@example.test"), cc=parse_addresses("c@x.test")
    )
    with pytest.raises(SendRefused, match="at most 2 recipients"):
        enqueue(teammate, draft)
    assert OutgoingMessage.objects.count() == 0


def test_an_answer_carries_in_reply_to_and_references_and_nothing_else_new(identity):
    raw = mime_of(identity, in_reply_to="<m1@example.org>", references="<r0@example.org> <m1@example.org>")
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    assert (headers["In-Reply-To"], headers["References"]) == ("<m1@example.org>", "<r0@example.org> <m1@example.org>")
    assert set(header_names(raw)) - set(header_names(mime_of(identity))) == {"in-reply-to", "references"}
    assert "in-reply-to" not in header_names(mime_of(identity, references="<r0@example.org>"))


@pytest.mark.parametrize(
    ("value", "many", "ok"),
    [
        ("<a@b>", False, True),
        ("<a.b-c$d@[127.0.0.1]>", False, True),
        ("<a@b> <c@d>", True, True),
        ("<a@b> <c@d>", False, False),
        ("<a@b>\r\nBcc: eve@example.org", True, False),
        ("<a@b@c>", False, False),
        ("a@b", False, False),
        ("<a b@c>", False, False),
        ("<" + "x" * 4000 + "@b>", True, False),
    ],
)
def test_thread_header_values_are_message_ids_or_refused(value, many, ok):
    from outbox.compose import check_message_ids

    if ok:
        assert check_message_ids(value, many=many) == value
    else:
        with pytest.raises(ValidationError):
            check_message_ids(value, many=many)


def test_an_attached_message_travels_with_crlf_line_ends_or_as_a_file_when_it_cannot_be_re_encoded(identity):
    from outbox import bodies
    from outbox.compose import POLICY

    for raw, kind in (
        (b"From: ann@example.org\nSubject: LF only\n\nHello\n", "message/rfc822"),
        (b"Subject: no charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9\r\n", "application/octet-stream"),
    ):
        message = EmailMessage(policy=POLICY)
        message["From"] = "sally@example.test"
        message.set_content("see attached")
        bodies.attach(message, raw, "message/rfc822", "original.eml")
        out = message.as_bytes()
        assert out.isascii() and b"\n" not in out.replace(b"\r\n", b""), "7-bit, CRLF only"
        assert [part.get_content_type() for part in message.iter_attachments()] == [kind]
