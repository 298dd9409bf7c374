"""What the app writes for a user, in their language and date order: the attribution line of a
reply (in the message that is sent), the worker's notes on a message, the outbox's dates."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox import delivery
from outbox.delivery.outcomes import UNCERTAIN_TEXT
from outbox.models import MessageState, OutgoingMessage
from tests.helpers import sign_in
from tests.outbox.helpers import queue_message
from tests.outbox.test_answer_flow import composer, delivered, submitted

NBSP = "\u00a0"


def test_a_french_users_reply_says_who_wrote_in_french(sender, dovecot, smtp_server):
    sender.language = "fr"
    sender.save()
    client = sign_in(Client(), sender)
    folder_id, uid = delivered(sender, dovecot, Date="Sun, 01 Mar 2026 12:00:00 +0000")
    form = composer(client, folder_id, uid, "reply").context["form"]
    attribution = f"Le 1 mars 2026 12:00, Ann Author a écrit{NBSP}:"
    assert f"{attribution}\n> Shall we meet on Thursday?" in form.initial["body"]
    assert attribution in form.initial["html"]

    assert submitted(client, form, body="Jeudi me va.\n" + form.initial["body"]).status_code == 302
    delivery.deliver(str(OutgoingMessage.objects.get(user=sender).pk))
    sent = email.message_from_bytes(smtp_server.wait_for(1)[0].data, policy=email.policy.default)
    assert attribution in sent.get_content()


def test_the_workers_note_and_the_dates_are_in_the_readers_language(writer, writer_client):
    writer.language, writer.date_format = "de", "iso"
    writer.save()
    message = queue_message(writer, subject="Unsicher")
    written = timezone.now() - timedelta(days=3)
    OutgoingMessage.objects.filter(pk=message.pk).update(
        state=MessageState.UNCERTAIN, last_error=f"{UNCERTAIN_TEXT} (connection reset)", created_at=written
    )
    page = writer_client.get(reverse("outbox:detail", args=[message.pk])).content.decode()
    assert "Der Worker wurde angehalten" in page and "(connection reset)" in page
    assert "The worker stopped" not in page
    local = timezone.localtime(written, writer.zone)
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page
    listed = writer_client.get(reverse("outbox:list")).content.decode()
    assert f'<td class="when">{local.strftime("%Y-%m-%d %H:%M")}</td>' in listed
    assert "ungewiss" in listed
