"""The outbox pages: compose, the list, a message's page and its buttons, the hold banner, the admin."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Identity
from outbox import delivery
from outbox.models import DeliveryAttempt, MessageState, OutgoingMessage, RecipientState
from tests.factories import IdentityFactory
from tests.helpers import sign_in
from tests.outbox.helpers import queue_message

COMPOSE = reverse("outbox:compose")
LIST = reverse("outbox:list")
POLL = 'hx-trigger="every 2s"'


@pytest.fixture
def stranger_client(stranger) -> Client:
    return sign_in(Client(), stranger)


def identity_id(user) -> int:
    return Identity.objects.get(user=user, is_default=True).pk


def post_compose(client: Client, user, **fields):
    data = {
        "identity": identity_id(user),
        "to": "Ann <ann@example.test>",
        "cc": "",
        "bcc": "",
        "subject": "Hello",
        "body": "Hi Ann,\n\nsee you.\n",
        **fields,
    }
    return client.post(COMPOSE, data)


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def detail_url(message) -> str:
    return reverse("outbox:detail", args=[message.pk])


def field_html(response, name: str) -> str:
    """The HTML of one field's block (label, input, errors), as _field.html renders it."""
    html = response.content.decode()
    start = html.index(f'for="id_{name}"')
    end = html.index("</div>", start)
    return html[start:end]


# -- compose ----------------------------------------------------------------------------------


def test_the_compose_form_offers_only_the_users_own_addresses(writer_client, writer, stranger):
    IdentityFactory(user=stranger, address=stranger.email)
    IdentityFactory(user=writer, account=writer.mail_accounts.get(), address="sales@example.test", display_name="")
    response = writer_client.get(COMPOSE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert stranger.email not in html
    assert "sales@example.test" in html
    assert re.search(rf'<option value="{identity_id(writer)}" selected>', html), "the default address is preselected"


def test_a_message_is_queued_with_its_recipients_and_bcc_stays_out_of_the_headers(writer_client, writer):
    response = post_compose(
        writer_client,
        writer,
        to="Ann <ann@example.test>, bob@example.test",
        cc="carol@example.test",
        bcc="Secret Sam <hidden@example.test>",
    )
    message = OutgoingMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(message)
    assert flash(response) == ["Queued."]
    assert message.user == writer and message.subject == "Hello"
    assert sorted(message.recipients.values_list("address", "kind")) == [
        ("ann@example.test", "to"),
        ("bob@example.test", "to"),
        ("carol@example.test", "cc"),
        ("hidden@example.test", "bcc"),
    ]
    raw = bytes(message.mime)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Bcc" not in parsed
    assert b"hidden@example.test" not in raw
    assert parsed["To"] == "Ann <ann@example.test>, bob@example.test"
    assert message.due_at > message.created_at, "the undo window applies"


def test_attachments_are_stored_with_a_guessed_type(writer_client, writer):
    files = [
        SimpleUploadedFile("report.pdf", b"%PDF-1.4 fake", content_type="text/plain"),
        SimpleUploadedFile("notes.txt", b"plain notes", content_type="application/x-whatever"),
    ]
    response = post_compose(writer_client, writer, attachments=files)
    assert response.status_code == 302
    parsed = email.message_from_bytes(bytes(OutgoingMessage.objects.get().mime), policy=email.policy.default)
    parts = {part.get_filename(): part for part in parsed.iter_attachments()}
    assert parts["report.pdf"].get_content_type() == "application/pdf"
    assert parts["report.pdf"].get_content() == b"%PDF-1.4 fake"
    assert parts["notes.txt"].get_content_type() == "text/plain"


def test_an_invalid_address_is_explained_next_to_its_field(writer_client, writer):
    response = post_compose(writer_client, writer, cc="bob@")
    assert response.status_code == 400
    assert "This is not a list of email addresses." in field_html(response, "cc")
    assert "This is not a list of email addresses." not in field_html(response, "to")
    assert 'value="bob@"' in field_html(response, "cc"), "what was typed is kept"
    assert OutgoingMessage.objects.count() == 0


def test_a_non_ascii_local_part_is_explained_next_to_its_field(writer_client, writer):
    response = post_compose(writer_client, writer, to="Jörg <jörg@example.test>")
    assert response.status_code == 400
    assert "jörg@example.test needs SMTPUTF8" in field_html(response, "to")
    assert 'value="Jörg &lt;jörg@example.test&gt;"' in field_html(response, "to"), "what was typed is kept"


def test_a_line_break_in_the_subject_is_refused(writer_client, writer):
    response = post_compose(writer_client, writer, subject="Hi\r\nBcc: evil@example.test")
    assert response.status_code == 400
    assert "cannot contain line breaks" in field_html(response, "subject")
    assert OutgoingMessage.objects.count() == 0


def test_a_newline_smuggled_in_an_encoded_display_name_is_refused(writer_client, writer):
    response = post_compose(writer_client, writer, to="=?utf-8?q?a=0D=0ABcc:_evil@x.test?= <a@example.test>")
    assert response.status_code == 400
    assert response.context["form"].errors["to"]
    assert OutgoingMessage.objects.count() == 0


def test_a_message_needs_a_recipient(writer_client, writer):
    response = post_compose(writer_client, writer, to="")
    assert response.status_code == 400
    assert "Add at least one recipient." in field_html(response, "to")
    assert OutgoingMessage.objects.count() == 0


def test_too_many_recipients_are_refused(writer_client, writer, settings):
    settings.WEBMAIL_MAX_RECIPIENTS = 3
    response = post_compose(writer_client, writer, to="a@example.test, b@example.test", bcc="c@x.test, d@x.test")
    assert response.status_code == 400
    assert "at most 3 recipients" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0


def test_an_oversized_message_is_refused(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 3000
    # Small enough for the check before building, too large once encoded into the message.
    response = post_compose(writer_client, writer, body="ü" * 1400)
    assert response.status_code == 400
    assert "The message is too large" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0


def test_an_upload_larger_than_a_message_may_be_is_refused_before_it_is_read(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 3000
    attachment = SimpleUploadedFile("big.bin", b"x" * 5000, content_type="application/octet-stream")
    response = post_compose(writer_client, writer, attachments=[attachment])
    assert response.status_code == 400
    assert "The message is too large" in field_html(response, "attachments")
    assert OutgoingMessage.objects.count() == 0


def test_attachments_are_counted_as_they_are_encoded_before_they_are_read(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 3000
    # 2,500 bytes on disk are about 3,400 in the message.
    attachment = SimpleUploadedFile("data.bin", b"x" * 2500, content_type="application/octet-stream")
    response = post_compose(writer_client, writer, subject="Figures", attachments=[attachment])
    assert response.status_code == 400
    errors = field_html(response, "attachments")
    assert "The message is too large: 3.4\xa0KB as sent" in errors
    assert "2.9\xa0KB" in errors, "the limit is stated"
    assert "Choose the attachments again" in errors
    assert 'value="Figures"' in field_html(response, "subject")
    assert "Hi Ann,\n\nsee you.\n</textarea>" in response.content.decode()


def test_a_body_larger_than_djangos_default_upload_limit_is_queued(writer_client, writer):
    body = "A long report.\n" * 200_000  # 3 MB, over Django's 2.5 MB default for form fields
    response = post_compose(writer_client, writer, body=body)
    assert response.status_code == 302
    assert OutgoingMessage.objects.get().size > 3_000_000


def test_a_body_over_the_limit_comes_back_with_the_text_kept(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 100_000
    body = "Typed with care.\n" * 7000
    response = post_compose(writer_client, writer, body=body)
    assert response.status_code == 400
    assert "The message is too large" in response.content.decode()
    assert body + "</textarea>" in response.content.decode()
    assert "Choose the attachments again" not in response.content.decode(), "there were none"


def test_the_form_states_the_limit_and_gives_it_to_the_browser(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
    html = writer_client.get(COMPOSE).content.decode()
    assert 'data-max-message-bytes="10485760"' in html
    assert "at most 10.0\xa0MB as sent, attachments included" in html
    assert re.search(r'<script src="/static/js/compose[.a-z0-9]*js" defer></script>', html)


def test_the_compose_page_is_never_cached(writer_client, writer):
    assert "no-store" in writer_client.get(COMPOSE)["Cache-Control"]
    assert "no-store" in post_compose(writer_client, writer, to="bob@")["Cache-Control"]


def test_someone_elses_address_cannot_be_used(writer_client, writer, stranger):
    other = IdentityFactory(user=stranger, address=stranger.email)
    response = post_compose(writer_client, writer, identity=other.pk)
    assert response.status_code == 400
    assert "Choose one of your own sender addresses." in field_html(response, "identity")
    assert OutgoingMessage.objects.count() == 0


def test_the_hourly_limit_refuses_the_next_message_and_says_when(writer_client, writer, settings):
    settings.WEBMAIL_SEND_LIMIT_PER_HOUR = 2
    assert post_compose(writer_client, writer).status_code == 302
    assert post_compose(writer_client, writer).status_code == 302
    response = post_compose(writer_client, writer)
    assert response.status_code == 400
    assert "You can send again at" in response.content.decode()
    assert OutgoingMessage.objects.count() == 2


def test_send_later_is_read_in_the_users_time_zone(writer_client, writer):
    writer.time_zone = "Asia/Tokyo"
    writer.date_format = "iso"  # the page's date in the order the form takes it
    writer.save()
    tokyo = ZoneInfo("Asia/Tokyo")
    day = timezone.localtime(timezone.now(), tokyo).date() + timedelta(days=1)
    response = post_compose(writer_client, writer, send_at=f"{day.isoformat()}T09:30")
    assert response.status_code == 302
    message = OutgoingMessage.objects.get()
    assert message.due_at == datetime(day.year, day.month, day.day, 9, 30, tzinfo=tokyo)
    assert message.scheduled
    detail = writer_client.get(detail_url(message)).content.decode()
    assert f"{day.isoformat()} 09:30" in detail, "the page shows the time as the user wrote it"


def test_send_later_must_be_in_the_future(writer_client, writer):
    past = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = post_compose(writer_client, writer, send_at=past)
    assert response.status_code == 400
    assert "Choose a time in the future" in field_html(response, "send_at")
    assert OutgoingMessage.objects.count() == 0


def test_a_pasted_line_separator_in_the_subject_becomes_a_space(writer_client, writer):
    attachment = SimpleUploadedFile("Plan\u2029Q3.txt", b"plan", content_type="text/plain")
    response = post_compose(writer_client, writer, subject="Plans\u2028for Q3", attachments=[attachment])
    assert response.status_code == 302
    parsed = email.message_from_bytes(bytes(OutgoingMessage.objects.get().mime), policy=email.policy.default)
    assert parsed["Subject"] == "Plans for Q3"
    # Django's upload parser drops unprintable characters from file names before we see them.
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["PlanQ3.txt"]


def test_a_line_separator_in_an_encoded_word_is_refused(writer_client, writer):
    response = post_compose(writer_client, writer, subject="=?utf-8?q?Plans=E2=80=A8Bcc:_x@example.test?=")
    assert response.status_code == 400
    assert "cannot contain line breaks" in field_html(response, "subject")


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT+12"])
def test_send_later_in_the_year_9999_is_refused_and_the_message_kept(writer_client, writer, zone):
    writer.time_zone = zone
    writer.save()
    response = post_compose(writer_client, writer, subject="Far away", send_at="9999-12-31T23:59")
    assert response.status_code == 400
    assert response.context["form"].errors["send_at"]
    assert 'value="Far away"' in field_html(response, "subject")
    assert "Hi Ann,\n\nsee you.\n</textarea>" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0


def test_send_later_is_at_most_a_year_ahead(writer_client, writer):
    later = timezone.localtime(timezone.now() + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M")
    response = post_compose(writer_client, writer, send_at=later)
    assert response.status_code == 400
    assert "Choose a time within the next year." in field_html(response, "send_at")


def test_a_user_without_a_sender_address_is_told_why(teammate_client):
    response = teammate_client.get(COMPOSE)
    assert response.status_code == 200
    assert "You cannot send mail yet" in response.content.decode()
    assert "<textarea" not in response.content.decode()
    assert teammate_client.post(COMPOSE, {"to": "a@example.test"}).status_code == 400
    assert OutgoingMessage.objects.count() == 0


def test_pages_need_a_signed_in_user(client, db):
    for url in (COMPOSE, LIST):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_poll_after_the_session_ended_sends_the_whole_page_to_sign_in(client, writer):
    message = queue_message(writer)
    page = detail_url(message)
    response = client.get(page, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('accounts:login')}?next={page}"


# -- the list and a message's page ------------------------------------------------------------


def test_other_peoples_messages_are_not_found(writer, stranger_client):
    message = queue_message(writer, subject="Private plans")
    assert "Private plans" not in stranger_client.get(LIST).content.decode()
    assert stranger_client.get(detail_url(message)).status_code == 404
    for action in ("cancel", "retry_now", "resend"):
        assert stranger_client.post(reverse(f"outbox:{action}", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED


def test_the_list_shows_messages_newest_first_with_their_state_in_words(writer_client, writer):
    older = queue_message(writer, to="ann@example.test, bob@example.test", subject="Older")
    newer = queue_message(writer, to="carol@example.test", subject="Newer")
    OutgoingMessage.objects.filter(pk=older.pk).update(state=MessageState.SENT)
    older.recipients.filter(address="bob@example.test").update(
        state=RecipientState.REJECTED, code=550, enhanced_code="5.1.1", reply="5.1.1 user unknown"
    )
    older.recipients.filter(address="ann@example.test").update(state=RecipientState.ACCEPTED)
    html = writer_client.get(LIST).content.decode()
    assert html.index("Newer") < html.index("Older")
    assert "sent to 1 of 2" in html
    assert "queued, sending at" in html
    assert detail_url(newer) in html


def test_a_failed_message_shows_the_servers_reply(writer_client, writer):
    message = queue_message(writer, subject="Doomed")
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.FAILED)
    message.recipients.update(state=RecipientState.REJECTED, code=550, enhanced_code="5.1.1", reply="5.1.1 unknown")
    assert "failed: 550 5.1.1 unknown" in writer_client.get(LIST).content.decode()


def test_the_list_says_when_a_deferred_message_is_retried(writer_client, writer):
    writer.time_zone = "Europe/Paris"
    writer.save()
    message = queue_message(writer)
    retry_at = timezone.now() + timedelta(minutes=30)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.DEFERRED, next_attempt_at=retry_at)
    html = writer_client.get(LIST).content.decode()
    local = timezone.localtime(retry_at, ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert re.search(rf"deferred, retrying at [0-9: -]*{local}", html)


def test_the_list_polls_only_while_something_is_in_flight(writer_client, writer):
    message = queue_message(writer)
    page = writer_client.get(LIST)
    assert POLL in page.content.decode()
    partial = writer_client.get(LIST, headers={"HX-Request": "true"})
    assert partial.content.decode().startswith("<tbody")
    assert "<html" not in partial.content.decode()
    assert POLL in partial.content.decode()

    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    assert POLL not in writer_client.get(LIST).content.decode()
    assert POLL not in writer_client.get(LIST, headers={"HX-Request": "true"}).content.decode()


def test_the_pages_never_load_the_message_bytes_and_do_not_query_per_row(writer_client, writer):
    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert writer_client.get(url).status_code == 200
        assert not any('"mime"' in q["sql"] for q in captured.captured_queries), url
        return len(captured.captured_queries)

    message = queue_message(writer)
    queries(detail_url(message))
    one = queries(LIST)  # (after a first request, which also refreshes the session)
    for _ in range(5):
        queue_message(writer, to="a@example.test, b@example.test")
    assert queries(LIST) == one


def test_the_list_is_paginated(writer_client, writer, settings):
    settings.WEBMAIL_SEND_LIMIT_PER_HOUR = settings.WEBMAIL_SEND_LIMIT_PER_DAY = 100
    for i in range(51):
        queue_message(writer, subject=f"Message {i:02d}")
    first = writer_client.get(LIST).content.decode()
    assert "Message 50" in first and "Message 00" not in first
    assert "Page 1 of 2" in first
    assert "Message 00" in writer_client.get(LIST, {"page": 2}).content.decode()


def test_the_message_page_polls_only_until_the_message_is_settled(writer_client, writer):
    message = queue_message(writer)
    html = writer_client.get(detail_url(message)).content.decode()
    assert POLL in html and "Undo send" in html
    partial = writer_client.get(detail_url(message), headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="message-status"') and POLL in partial

    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.CANCELLED)
    html = writer_client.get(detail_url(message)).content.decode()
    assert POLL not in html and "Undo send" not in html


def test_the_message_page_escapes_what_the_server_said(writer_client, writer):
    message = queue_message(writer)
    hostile = "<script>alert(1)</script>"
    recipient = message.recipients.get()
    recipient.reply = hostile
    recipient.save()
    DeliveryAttempt.objects.create(
        message=message,
        recipient=recipient,
        attempt=1,
        started_at=timezone.now(),
        duration_ms=12,
        step="rcpt",
        code=550,
        enhanced_code="5.7.1",
        reply=hostile,
        tls_version="TLSv1.3",
        tls_cipher="TLS_AES_256_GCM_SHA384",
    )
    OutgoingMessage.objects.filter(pk=message.pk).update(last_error=hostile)
    html = writer_client.get(detail_url(message)).content.decode()
    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3
    assert "TLS_AES_256_GCM_SHA384" in html and "12 ms" in html


# -- buttons ----------------------------------------------------------------------------------


def test_undo_send_cancels_a_message_in_its_undo_window(writer_client, writer):
    message = queue_message(writer)
    response = writer_client.post(reverse("outbox:cancel", args=[message.pk]))
    assert response.status_code == 302 and response["Location"] == detail_url(message)
    assert flash(response) == ["Sending undone. The message will not be sent."]
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED


def test_cancelling_a_sent_message_explains_it_is_too_late(writer_client, writer):
    message = queue_message(writer)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    response = writer_client.post(reverse("outbox:cancel", args=[message.pk]), follow=True)
    assert response.status_code == 200
    assert "It is too late to cancel this message. The message is now sent." in response.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_cancel_needs_a_post(writer_client, writer):
    message = queue_message(writer)
    assert writer_client.get(reverse("outbox:cancel", args=[message.pk])).status_code == 405


def test_retry_now_makes_a_deferred_message_due(writer_client, writer):
    message = queue_message(writer)
    later = timezone.now() + timedelta(hours=1)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.DEFERRED, next_attempt_at=later)
    assert "Retry now" in writer_client.get(detail_url(message)).content.decode()
    response = writer_client.post(reverse("outbox:retry_now", args=[message.pk]))
    assert flash(response) == ["Sending now."]
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED
    assert message.next_attempt_at is None and message.due_at <= timezone.now()


def test_retry_now_on_a_sent_message_is_refused_politely(writer_client, writer):
    message = queue_message(writer)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    response = writer_client.post(reverse("outbox:retry_now", args=[message.pk]))
    assert response.status_code == 302
    assert flash(response)[0].startswith("This message is not waiting to be sent")


def test_resend_after_an_uncertain_attempt_makes_a_new_message(writer_client, writer):
    message = queue_message(writer, to="ann@example.test, bob@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.UNCERTAIN)
    response = writer_client.post(reverse("outbox:resend", args=[message.pk]))
    copy = OutgoingMessage.objects.exclude(pk=message.pk).get()
    assert response["Location"] == detail_url(copy)
    assert sorted(copy.recipients.values_list("address", flat=True)) == ["ann@example.test", "bob@example.test"]
    assert bytes(copy.mime) == bytes(message.mime) and copy.message_id == message.message_id
    message.refresh_from_db()
    assert message.state == MessageState.CANCELLED


def test_resend_goes_only_to_the_rejected_recipients(writer_client, writer):
    message = queue_message(writer, to="ann@example.test, bob@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    message.recipients.filter(address="ann@example.test").update(state=RecipientState.ACCEPTED)
    message.recipients.filter(address="bob@example.test").update(state=RecipientState.REJECTED)
    writer_client.post(reverse("outbox:resend", args=[message.pk]))
    copy = OutgoingMessage.objects.exclude(pk=message.pk).get()
    assert list(copy.recipients.values_list("address", flat=True)) == ["bob@example.test"]


def test_resend_of_a_message_that_reached_everyone_is_refused(writer_client, writer):
    message = queue_message(writer)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    message.recipients.update(state=RecipientState.ACCEPTED)
    response = writer_client.post(reverse("outbox:resend", args=[message.pk]))
    assert response["Location"] == detail_url(message)
    assert flash(response)[0].startswith("There is nothing to send again")
    assert OutgoingMessage.objects.count() == 1


def test_send_again_counts_towards_the_sending_limit(writer_client, writer, settings):
    settings.WEBMAIL_SEND_LIMIT_PER_HOUR = 1
    message = queue_message(writer, to="ann@example.test, bob@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(state=MessageState.SENT)
    message.recipients.filter(address="ann@example.test").update(state=RecipientState.ACCEPTED)
    message.recipients.filter(address="bob@example.test").update(state=RecipientState.REJECTED)
    response = writer_client.post(reverse("outbox:resend", args=[message.pk]))
    assert response["Location"] == detail_url(message)
    assert flash(response)[0].startswith("You have reached the sending limit. You can send again at")
    assert OutgoingMessage.objects.count() == 1
    message.refresh_from_db()
    assert message.resent_as_id is None, "the message can still be sent again later"


# -- the hold ---------------------------------------------------------------------------------

HOLD_TEXT = "Your SMTP password was refused; your mail is waiting."


def test_the_hold_banner_shows_on_every_page_while_an_account_is_held(writer_client, writer):
    from webmail.mailbox.models import Folder

    inbox = Folder.objects.create(
        account=writer.mail_accounts.get(), name="INBOX", special_use="inbox", uidvalidity=1, synced_at=timezone.now()
    )
    mailbox = reverse("mailbox:folder", args=[inbox.pk])  # mailbox pages work the banner out themselves
    assert HOLD_TEXT not in writer_client.get(LIST).content.decode()
    assert HOLD_TEXT not in writer_client.get(mailbox).content.decode()
    writer.mail_accounts.update(smtp_held_at=timezone.now(), smtp_hold_reason="535 5.7.8 bad credentials")
    for url in (LIST, COMPOSE, reverse("accounts:settings"), mailbox):
        assert HOLD_TEXT in writer_client.get(url).content.decode(), url


def test_a_new_password_in_the_admin_releases_the_hold(owner, writer, settings):
    account = writer.mail_accounts.get()
    identity = account.identities.get()
    message = queue_message(writer)
    delivery.hold_account(account.pk, "535 5.7.8 authentication failed")
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.HELD
    admin = sign_in(Client(), owner)
    url = reverse("admin:accounts_mailaccount_change", args=[account.pk])

    def save(**passwords):
        data = {
            "user": writer.pk,
            "label": account.label,
            "imap_host": account.imap_host,
            "imap_port": account.imap_port,
            "imap_security": account.imap_security,
            "imap_username": "",
            "smtp_host": account.smtp_host,
            "smtp_port": account.smtp_port,
            "smtp_security": account.smtp_security,
            "smtp_username": "",
            "use_imap_password_for_smtp": "on",
            "ca_certificates": "",
            "trusted_certificate_sha256": "",
            "identities-TOTAL_FORMS": "1",
            "identities-INITIAL_FORMS": "1",
            "identities-0-id": identity.pk,
            "identities-0-account": account.pk,
            "identities-0-display_name": identity.display_name,
            "identities-0-address": identity.address,
            "identities-0-is_default": "on",
            "identities-0-signature": "",
            "connection_checks-TOTAL_FORMS": "0",
            "connection_checks-INITIAL_FORMS": "0",
            **passwords,
        }
        response = admin.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        return response

    save()
    account.refresh_from_db()
    assert account.smtp_held_at is not None, "saving without a new password changes nothing"

    response = save(new_imap_password="the-new-password")
    account.refresh_from_db()
    assert account.smtp_held_at is None and account.smtp_hold_reason == ""
    assert account.smtp_credentials()[1] == "the-new-password"
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.QUEUED
    assert "Sending resumed: 1 held message is queued again." in flash(response)


# -- the admin --------------------------------------------------------------------------------


def test_the_admin_shows_the_queue_read_only_and_never_the_message_bytes(owner, writer):
    message = queue_message(writer, subject="Quarterly numbers", body="The secret body text")
    admin = sign_in(Client(), owner)
    changelist = admin.get(reverse("admin:outbox_outgoingmessage_changelist"), {"state__exact": "queued"})
    assert changelist.status_code == 200
    assert "Quarterly numbers" in changelist.content.decode()
    assert (
        "Quarterly numbers"
        not in admin.get(reverse("admin:outbox_outgoingmessage_changelist"), {"state__exact": "sent"}).content.decode()
    )
    page = admin.get(reverse("admin:outbox_outgoingmessage_change", args=[message.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "secret body text" not in html and "message bytes" not in html
    assert 'name="subject"' not in html, "read-only"
    assert message.recipients.get().address in html
    assert admin.get(reverse("admin:outbox_outgoingmessage_add")).status_code == 403


def test_the_admin_actions_report_how_many_applied(owner, writer):
    queued = queue_message(writer, subject="one")
    deferred = queue_message(writer, subject="two")
    sent = queue_message(writer, subject="three")
    OutgoingMessage.objects.filter(pk=deferred.pk).update(
        state=MessageState.DEFERRED, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    OutgoingMessage.objects.filter(pk=sent.pk).update(state=MessageState.SENT)
    admin = sign_in(Client(), owner)
    url = reverse("admin:outbox_outgoingmessage_changelist")

    response = admin.post(url, {"action": "retry_now", "_selected_action": [deferred.pk, sent.pk]})
    assert "1 message queued to be sent now. 1 was skipped" in " ".join(flash(response))
    assert OutgoingMessage.objects.get(pk=deferred.pk).state == MessageState.QUEUED

    response = admin.post(url, {"action": "cancel", "_selected_action": [queued.pk, deferred.pk, sent.pk]})
    assert "2 messages cancelled. 1 was skipped" in " ".join(flash(response))
    states = dict(OutgoingMessage.objects.values_list("subject", "state"))
    assert states == {"one": "cancelled", "two": "cancelled", "three": "sent"}


# -- with the real servers --------------------------------------------------------------------


def test_a_composed_message_is_delivered_and_its_page_says_sent(sender, smtp_server):
    client = sign_in(Client(), sender)
    response = post_compose(client, sender, to="ann@example.test", subject="Über den Wolken")
    message = OutgoingMessage.objects.get()
    assert response["Location"] == detail_url(message)
    delivery.deliver(str(message.pk))
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["ann@example.test"]
    html = client.get(detail_url(message)).content.decode()
    assert re.search(r'class="state state-sent">sent<', html)
    assert "accepted by the server" in html
    assert POLL not in html
