"""Whatever the compose form accepts is queued or comes back with an error and everything still filled in."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from outbox.models import OutgoingMessage, SavedDraft
from tests.outbox.test_views import identity_id

COMPOSE = reverse("outbox:compose")

# Characters that have broken mail software before: line and paragraph separators, NEL, the
# controls, an encoded word that decodes to a line separator, and what looks like a header.
TRICKY = st.sampled_from(
    [
        "\u2028",
        "\u2029",
        "\x85",
        "\x0b",
        "\x0c",
        "\t",
        "\r\n",
        "\x00",
        "=?utf-8?q?a=E2=80=A8b?=",
        "=?utf-8?b?4oCo?=",
        "Bcc: evil@example.test",
        '"',
        "<",
        ",",
        ";",
        "@",
        "ü",
        "\U0001f600",
        " " * 80,
    ]
)


def tricky_text(max_size: int = 60, min_size: int = 0) -> st.SearchStrategy[str]:
    parts = st.lists(st.one_of(st.text(max_size=12), TRICKY), min_size=min_size, max_size=max_size // 6)
    return parts.map("".join)


def mailboxes() -> st.SearchStrategy[str]:
    return st.one_of(
        st.emails(),
        st.builds(lambda name, address: f"{name} <{address}>", tricky_text(20), st.emails()),
        st.builds(lambda name, address: f'"{name}" <{address}>', tricky_text(20), st.emails()),
    )


def address_lists() -> st.SearchStrategy[str]:
    return st.lists(st.one_of(mailboxes(), tricky_text(30)), max_size=3).map(", ".join)


def send_at_values() -> st.SearchStrategy[str | timedelta]:
    """A typed value, or a distance from now (written in the user's zone by the test)."""
    return st.one_of(
        st.just(""),
        st.timedeltas(min_value=timedelta(minutes=2), max_value=timedelta(days=400)),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
            lambda moment: moment.isoformat(timespec="minutes")
        ),
        st.sampled_from(["9999-12-31T23:59", "0001-01-01T00:00", "2999-01-01T00:00", "10000-01-01T00:00"]),
        tricky_text(20),
    )


def as_a_browser_sends_it(name: str) -> str:
    # A browser sends a file's own name, never a path, and escapes these three in it (the HTML
    # standard); Django's test client would write them raw.
    name = name.replace("/", "_").replace("\\", "_")
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def file_names() -> st.SearchStrategy[str]:
    return (
        tricky_text(30, min_size=1).map(as_a_browser_sends_it).filter(lambda name: name.strip() not in ("", ".", ".."))
    )


@pytest.mark.django_db
@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    to=st.one_of(st.lists(mailboxes(), min_size=1, max_size=3).map(", ".join), address_lists()),
    cc=address_lists(),
    subject=tricky_text(),
    body=tricky_text(200),
    attachment_names=st.lists(file_names(), max_size=2),
    send_at=send_at_values(),
    zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin"]),
)
def test_any_input_is_queued_or_returned_with_errors(
    writer_client,
    writer,
    django_settings,
    to,
    cc,
    subject,
    body,
    attachment_names,
    send_at,
    zone,
):
    writer.time_zone = zone
    writer.save(update_fields=["time_zone"])
    writer_client.raise_request_exception = True  # an exception in the view fails the example
    if isinstance(send_at, timedelta):
        send_at = timezone.localtime(timezone.now() + send_at, ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    before = OutgoingMessage.objects.count()
    data = {
        "identity": identity_id(writer),
        "to": to,
        "cc": cc,
        "bcc": "",
        "subject": subject,
        "body": body,
        "send_at": send_at,
        "attachments": [SimpleUploadedFile(name, b"data") for name in attachment_names],
    }
    response = writer_client.post(COMPOSE, data)
    event(f"answered {response.status_code}")

    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        message = OutgoingMessage.objects.latest("created_at")
        raw = bytes(message.mime)
        raw.decode("ascii")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert "Bcc" not in parsed
        return
    assert OutgoingMessage.objects.count() == before
    form = response.context["form"]
    assert form.errors
    html = response.content.decode()
    for typed in (to, cc, subject, body):
        assert escape(typed) in html, typed
    files = response.wsgi_request.FILES.getlist("attachments")
    if files and "Choose the attachments again" not in html:  # they were kept in the draft instead
        draft = SavedDraft.objects.get(pk=form["draft_id"].value())
        assert draft.attachments.count() == len(files)
        for item in draft.attachments.all():
            assert f'value="{item.pk}" checked' in html


@pytest.fixture
def django_settings(settings):
    settings.WEBMAIL_SEND_LIMIT_PER_HOUR = 100_000
    settings.WEBMAIL_SEND_LIMIT_PER_DAY = 100_000
    return settings
