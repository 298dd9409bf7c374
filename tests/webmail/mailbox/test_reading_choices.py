"""What the reading pane chooses to show: remote images from people the user wrote to (their
setting, trusted senders only), and the text part of an HTML body that shows nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.webmail.mailbox.test_remote_images_sender import (
    AUTHSERV_ID,
    FLAGGED,
    TRACKER,
    deliver,
    remote_allowed,
    remote_message,
)
from webmail.mailbox.models import Correspondent


def correspondent(user, address: str, *, written: int = 0, received: int = 0) -> Correspondent:
    return Correspondent.objects.create(
        user=user, address=address, times_written=written, times_received=received, last_used_at=timezone.now()
    )


@pytest.fixture
def wants_them(reader):
    reader.user.images_from_correspondents = True
    reader.user.save(update_fields=["images_from_correspondents"])
    return reader.user


def test_images_load_from_someone_written_to_when_the_user_chose_so(reader, reader_client, dovecot, wants_them):
    correspondent(wants_them, "ann@example.test", written=1)
    inbox, uid = deliver(reader, dovecot, remote_message("Ann <Ann@Example.TEST>"))
    assert remote_allowed(reader_client, inbox, uid)
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    assert "Remote images are blocked" not in page
    assert "Remote images are shown because you have written to ann@example.test" in page
    printed = reader_client.get(reverse("mailbox:print", args=[inbox.pk, uid])).content.decode()
    assert TRACKER in printed

    wants_them.images_from_correspondents = False
    wants_them.save(update_fields=["images_from_correspondents"])
    assert not remote_allowed(reader_client, inbox, uid), "only while the setting is on"


def test_received_from_does_not_count_nor_does_another_user_s_correspondent(
    reader, reader_client, dovecot, wants_them, teammate
):
    correspondent(wants_them, "ann@example.test", received=25)
    correspondent(teammate, "bob@example.test", written=3)
    inbox, ann = deliver(reader, dovecot, remote_message("Ann <ann@example.test>"))
    _, bob = deliver(reader, dovecot, remote_message("Bob <bob@example.test>", n=2))
    assert not remote_allowed(reader_client, inbox, ann)
    assert not remote_allowed(reader_client, inbox, bob)
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, ann])).content.decode()
    assert "Remote images are blocked" in page


@pytest.mark.parametrize("case", FLAGGED)
def test_a_flagged_message_keeps_its_images_blocked_though_written_to(
    reader, reader_client, dovecot, wants_them, settings, case
):
    settings.WEBMAIL_AUTHSERV_ID = AUTHSERV_ID
    correspondent(wants_them, "ann@example.test", written=4)
    inbox, uid = deliver(reader, dovecot, FLAGGED[case])
    assert not remote_allowed(reader_client, inbox, uid)


def alternative(html: str, text: str = "Hello in plain text.") -> bytes:
    return (
        "From: Ann <ann@example.test>\r\nTo: rita@example.test\r\nSubject: Alternative\r\n"
        "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()


NOTHING_SHOWN = {
    "blocked-image-only": f'<table><tr><td>&nbsp;</td><td><img src="{TRACKER}"></td></tr></table>',
    "script-only": "<script>document.write('Hello')</script>",
    "invisible-characters": "<p>&#8203;&nbsp;&shy;</p>",
}


@pytest.mark.parametrize("case", NOTHING_SHOWN)
def test_an_html_body_that_shows_nothing_falls_back_to_its_text_and_says_so(reader, reader_client, dovecot, case):
    inbox, uid = deliver(reader, dovecot, alternative(NOTHING_SHOWN[case]))
    body = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid])).content.decode()
    assert "Hello in plain text." in body and "mail-plain-text" in body
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    assert "its plain-text version is shown instead" in page
    if case == "blocked-image-only":  # showing the images shows the HTML
        assert "Remote images are blocked" in page
        shown = reader_client.get(reverse("mailbox:body", args=[inbox.pk, uid]) + "?images=1").content.decode()
        assert TRACKER in shown and "Hello in plain text." not in shown


def test_an_html_body_with_text_is_shown_and_one_without_a_text_part_stays(reader, reader_client, dovecot):
    inbox, shown = deliver(reader, dovecot, alternative("<p>Hello in <b>HTML</b>.</p>"))
    _, alone = deliver(reader, dovecot, alternative("<p>&nbsp;</p>", text=""))
    body = reader_client.get(reverse("mailbox:body", args=[inbox.pk, shown])).content.decode()
    assert "Hello in <b>HTML</b>." in body and "Hello in plain text." not in body
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, alone])).content.decode()
    assert "plain-text version is shown instead" not in page
