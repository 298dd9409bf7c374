"""Reply, reply all and forward from a message in the user's IMAP inbox (Dovecot), through the
composer page, the outbox and the worker, to what the submission server receives."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from django.test import Client
from django.urls import reverse

from outbox import delivery
from outbox.models import OutgoingMessage
from tests.browser.helpers import PIXEL
from tests.factories import UserFactory
from tests.helpers import sign_in
from tests.webmail.mailbox.helpers import folder_named, sync_account


def delivered(sender, dovecot, **headers: str) -> tuple[int, int]:
    """A message from Ann to the sender, in their INBOX and its cache: (folder id, UID)."""
    message = EmailMessage()
    message["From"] = "Ann Author <ann@example.org>"
    message["To"] = f"{sender.email}, Bob <bob@example.org>"
    message["Subject"] = "Plans"
    message["Message-ID"] = "<orig@example.org>"
    message["References"] = "<root@example.org>"
    for name, value in headers.items():
        message[name] = value
    message.set_content("Shall we meet on Thursday?\n")
    dovecot.deliver(sender.email, message.as_bytes())
    account = sender.mail_accounts.get()
    sync_account(account, ["INBOX"])
    inbox = folder_named(account, "INBOX")
    return inbox.pk, inbox.messages.get().uid


def composer(client: Client, folder_id: int, uid: int, how: str):
    return client.get(reverse("outbox:compose"), {"folder": folder_id, "uid": uid, "how": how})


def submitted(client: Client, form, **changes: str):
    data = {name: value for name, value in form.initial.items() if value is not None}
    return client.post(reverse("outbox:compose"), data | changes)


def test_reply_all_from_the_inbox_reaches_everyone_in_the_thread(sender, dovecot, smtp_server):
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    page = composer(client, folder_id, uid, "all")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["to"] == "Ann Author <ann@example.org>"
    assert form.initial["cc"] == "Bob <bob@example.org>"  # not the sender's own address
    assert form.initial["subject"] == "Re: Plans"
    assert "wrote:\n> Shall we meet on Thursday?" in form.initial["body"]
    assert 'name="in_reply_to" value="&lt;orig@example.org&gt;"' in page.content.decode()

    response = submitted(client, form, body="Thursday works.\n" + form.initial["body"])
    message = OutgoingMessage.objects.get(user=sender)
    assert response.status_code == 302
    delivery.deliver(str(message.pk))
    (received,) = smtp_server.wait_for(1)
    sent = email.message_from_bytes(received.data, policy=email.policy.default)
    assert sorted(received.rcpt_tos) == ["ann@example.org", "bob@example.org"]
    assert (sent["In-Reply-To"], sent["References"]) == ("<orig@example.org>", "<root@example.org> <orig@example.org>")
    assert sent["Subject"] == "Re: Plans"
    assert "> Shall we meet on Thursday?" in sent.get_content()


def test_forward_starts_without_recipients_or_thread_headers(sender, dovecot, smtp_server):
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    form = composer(client, folder_id, uid, "forward").context["form"]
    assert (form.initial["to"], form.initial["subject"], form.initial["in_reply_to"]) == ("", "Fwd: Plans", "")
    assert "Subject: Plans" in form.initial["body"] and "Shall we meet on Thursday?" in form.initial["body"]
    submitted(client, form, to="carol@example.org")
    delivery.deliver(str(OutgoingMessage.objects.get(user=sender).pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    assert sent["In-Reply-To"] is None and sent["References"] is None and sent["Subject"] == "Fwd: Plans"


def server_raw(dovecot, address: str, uid: int) -> bytes:
    client = dovecot.login(address)
    try:
        client.select_folder("INBOX", readonly=True)
        return client.fetch([uid], [b"BODY.PEEK[]"])[uid][b"BODY[]"]
    finally:
        client.logout()


def test_forward_as_attachment_carries_the_original_byte_for_byte(sender, dovecot, smtp_server):
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    page = composer(client, folder_id, uid, "attached")
    form = page.context["form"]
    assert (form.initial["to"], form.initial["subject"], form.initial["in_reply_to"]) == ("", "Fwd: Plans", "")
    assert "Shall we meet" not in form.initial["body"], "nothing quoted"
    assert "Plans.eml" in page.content.decode() and "<h1>Forward as attachment</h1>" in page.content.decode()
    submitted(client, form, to="carol@example.org", body="See the message below.")
    message = OutgoingMessage.objects.get(user=sender)
    assert message.answer_flag == "$Forwarded"
    delivery.deliver(str(message.pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    (attached,) = [part for part in sent.walk() if part.get_content_type() == "message/rfc822"]
    assert attached["Content-Transfer-Encoding"] == "7bit" and attached.get_filename() == "Plans.eml"
    original = server_raw(dovecot, sender.email, uid)
    assert original in smtp_server.wait_for(1)[0].data, "byte for byte"
    assert attached.get_content()["Message-ID"] == "<orig@example.org>"


def test_a_refused_forward_still_lists_what_it_carries(sender, dovecot):
    client = sign_in(Client(), sender)
    page = composer(client, *delivered(sender, dovecot), "attached")
    (name,) = page.context["forwarded"]
    refused = submitted(client, page.context["form"], to="not an address", forwarded_name=name)
    assert refused.status_code == 400 and refused.context["forwarded"] == [name]
    reopened = client.get(reverse("outbox:compose"), {"draft": refused.context["form"]["draft_id"].value()})
    assert reopened.context["forwarded"] == ["the original message, fetched from the server when it is sent"]


def test_an_eight_bit_original_is_forwarded_re_encoded_in_seven_bits(sender, dovecot, smtp_server):
    client = sign_in(Client(), sender)
    raw = (
        "From: Zoë <zoe@example.org>\r\nTo: " + sender.email + "\r\nSubject: Café\r\nMessage-ID: <8bit@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCrème brûlée.\r\n"
    ).encode()
    uid = dovecot.deliver(sender.email, raw)
    account = sender.mail_accounts.get()
    sync_account(account, ["INBOX"])
    form = composer(client, folder_named(account, "INBOX").pk, uid, "attached").context["form"]
    assert submitted(client, form, to="carol@example.org").status_code == 302
    message = OutgoingMessage.objects.get(user=sender)
    assert bytes(message.mime).isascii(), "the message stays 7-bit"
    delivery.deliver(str(message.pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    (attached,) = [part for part in sent.walk() if part.get_content_type() == "message/rfc822"]
    assert attached["Content-Transfer-Encoding"] == "7bit"
    assert attached.get_content().get_content().strip() == "Crème brûlée."


def test_nobody_answers_a_message_in_someone_elses_folder(sender, dovecot):
    folder_id, uid = delivered(sender, dovecot)
    stranger = sign_in(Client(), UserFactory())
    assert composer(stranger, folder_id, uid, "reply").status_code == 404
    owner = sign_in(Client(), sender)
    assert composer(owner, folder_id, uid + 1, "reply").status_code == 404  # no such message
    assert composer(owner, folder_id, 2**32, "reply").status_code == 404
    assert composer(owner, folder_id, uid, "explode").status_code == 404


def test_forged_thread_headers_are_refused_and_nothing_is_queued(sender, dovecot):
    client = sign_in(Client(), sender)
    form = composer(client, *delivered(sender, dovecot), "reply").context["form"]
    for forged in ("<a@b>\r\nBcc: eve@example.org", "<a@b> <c@d>", "not-an-id", "<a@b>>"):
        response = submitted(client, form, in_reply_to=forged)
        assert response.status_code == 400, forged
    response = submitted(client, form, references="<a@b> Bcc: eve@example.org")
    assert response.status_code == 400
    assert not OutgoingMessage.objects.filter(user=sender).exists()


def test_a_dead_mail_server_still_opens_the_composer_with_a_banner(sender, dovecot):
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    sender.mail_accounts.update(imap_port=1)  # nothing listens there: connection refused
    page = composer(client, folder_id, uid, "reply")
    assert page.status_code == 502
    assert "The mail server did not answer" in page.content.decode()
    initial = page.context["form"].initial
    assert set(initial) == {"draft_id", "revision"}, "an empty composer, still usable"


def test_the_reading_pane_and_the_conversation_offer_reply_reply_all_and_forward(sender, dovecot):
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    compose = reverse("outbox:compose")
    summary = folder_named(sender.mail_accounts.get(), "INBOX").messages.get()
    for url in (
        reverse("mailbox:message", args=[folder_id, uid]),
        reverse("mailbox:thread", args=[folder_id, summary.pk]),
    ):
        page = client.get(url).content.decode()
        for how in ("reply", "all", "forward", "attached"):
            assert f'href="{compose}?folder={folder_id}&amp;uid={uid}&amp;how={how}"' in page, (url, how)


# -- the original is flagged once the answer is sent ------------------------------------------


def test_a_sent_reply_flags_its_original_answered_once(sender, dovecot, smtp_server):
    from outbox import answered
    from tests.webmail.mailbox.helpers import server_flags

    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    submitted(client, composer(client, folder_id, uid, "reply").context["form"])
    message = OutgoingMessage.objects.get(user=sender)
    assert answered.due() == []  # not before it is sent
    delivery.deliver(str(message.pk))
    assert answered.due() == [str(message.pk)]
    answered.flag_original(str(message.pk))
    assert b"\\Answered" in server_flags(dovecot, sender.email)[uid]
    assert folder_named(sender.mail_accounts.get(), "INBOX").messages.get(uid=uid).answered
    message.refresh_from_db()
    assert (message.answer_flag_state, message.answer_flag_attempts) == ("done", 1)
    answered.flag_original(str(message.pk))  # once: a second run finds nothing to do
    message.refresh_from_db()
    assert message.answer_flag_attempts == 1 and answered.due() == []


def test_a_sent_forward_flags_its_original_forwarded_and_the_sweeper_publishes_it(
    sender, dovecot, smtp_server, monkeypatch
):
    from outbox import answered, tasks
    from tests.webmail.mailbox.helpers import server_flags

    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    submitted(client, composer(client, folder_id, uid, "forward").context["form"], to="carol@example.org")
    message = OutgoingMessage.objects.get(user=sender)
    delivery.deliver(str(message.pk))
    published: list[tuple[str, str]] = []
    monkeypatch.setattr(
        tasks, "try_publish", lambda task, message_id, countdown=0: published.append((task.name, message_id))
    )
    tasks.sweep()
    assert ("outbox.tasks.flag_original", str(message.pk)) in published
    answered.flag_original(str(message.pk))
    flags = server_flags(dovecot, sender.email)[uid]
    assert b"$Forwarded" in flags and b"\\Answered" not in flags


def test_a_dead_mail_server_leaves_the_flag_for_later(sender, dovecot, smtp_server):
    from outbox import answered

    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot)
    submitted(client, composer(client, folder_id, uid, "reply").context["form"])
    message = OutgoingMessage.objects.get(user=sender)
    delivery.deliver(str(message.pk))
    sender.mail_accounts.update(imap_port=1)
    answered.flag_original(str(message.pk))
    message.refresh_from_db()
    assert (message.state, message.answer_flag_state, message.answer_flag_attempts) == ("sent", "pending", 1)
    assert answered.due() == []  # tried again after a pause, not at once


def test_nobody_can_name_someone_elses_message_as_the_one_answered(sender, dovecot):
    client = sign_in(Client(), sender)
    form = composer(client, *delivered(sender, dovecot), "reply").context["form"]
    other = UserFactory()
    from tests.factories import MailAccountFactory
    from webmail.mailbox.models import Folder

    theirs = Folder.objects.create(account=MailAccountFactory(user=other), name="INBOX", uidvalidity=1)
    for forged in (f"{theirs.pk}:1", "x:1", f"{form.initial['answers'].split(':')[0]}:{2**32}"):
        response = submitted(client, form, answers=forged)
        assert response.status_code == 400, forged
        assert "The message this answers is not one of yours." in response.content.decode()
    assert not OutgoingMessage.objects.filter(user=sender).exists()


def test_a_forward_carries_the_originals_attachments_from_the_server(sender, dovecot, smtp_server):
    message = EmailMessage()
    message["From"] = "Ann Author <ann@example.org>"
    message["To"] = sender.email
    message["Subject"] = "Report"
    message["Message-ID"] = "<report@example.org>"
    message.set_content("Attached.\n")
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="Q3 report.pdf")
    dovecot.deliver(sender.email, message.as_bytes())
    account = sender.mail_accounts.get()
    sync_account(account, ["INBOX"])
    inbox = folder_named(account, "INBOX")
    client = sign_in(Client(), sender)

    page = composer(client, inbox.pk, inbox.messages.get().uid, "forward")
    html = page.content.decode()
    assert "Forwarded with it:" in html and "<li>Q3 report.pdf (10.3\xa0KB)<input" in html  # as the pane estimates it
    submitted(client, page.context["form"], to="carol@example.org")
    delivery.deliver(str(OutgoingMessage.objects.get(user=sender).pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    (attachment,) = list(sent.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("Q3 report.pdf", "application/pdf")
    assert attachment.get_content() == pdf


def test_a_forward_whose_original_cannot_be_fetched_keeps_what_was_typed(sender, dovecot):
    from django.core.cache import cache

    client = sign_in(Client(), sender)
    form = composer(client, *delivered(sender, dovecot), "forward").context["form"]
    cache.clear()  # the original is no longer in the raw-message cache either
    sender.mail_accounts.update(imap_port=1)
    response = submitted(client, form, to="carol@example.org", body="Have a look.")
    assert response.status_code == 502
    assert "The mail server did not answer" in response.content.decode()
    assert "Have a look." in response.content.decode() and "carol@example.org" in response.content.decode()
    assert not OutgoingMessage.objects.filter(user=sender).exists()


def test_a_forward_keeps_the_pictures_of_an_html_original_inline(sender, dovecot, smtp_server):
    original = EmailMessage()
    original["From"] = "Ann Author <ann@example.org>"
    original["To"] = sender.email
    original["Subject"] = "Our logo"
    original.set_content("The logo.\n")
    original.add_alternative('<p>The logo: <img src="cid:logo@example.org" alt="logo"></p>', subtype="html")
    original.get_payload()[1].add_related(PIXEL, "image", "png", cid="<logo@example.org>")
    uid = dovecot.deliver(sender.email, original.as_bytes())
    account = sender.mail_accounts.get()
    sync_account(account, ["INBOX"])
    client = sign_in(Client(), sender)
    form = composer(client, folder_named(account, "INBOX").pk, uid, "forward").context["form"]
    assert 'src="data:image/png;base64,' in form.initial["html"]

    # What the editor posts back: the same HTML, above it what was typed.
    html = "<div>Have a look.</div>" + form.initial["html"]
    assert submitted(client, form, to="carol@example.org", body_html=html).status_code == 302
    delivery.deliver(str(OutgoingMessage.objects.get(user=sender).pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    (related,) = [part for part in sent.walk() if part.get_content_type() == "multipart/related"]
    html_part, image = related.iter_parts()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content() and image.get_content() == PIXEL
