"""Recipients the user writes to become suggestions, and the suggestions endpoint gives each
user their own only, as JSON, never cached."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingMessage
from outbox.recipients import header_value
from tests.factories import IdentityFactory, MailAccountFactory
from tests.helpers import sign_in
from tests.outbox.helpers import queue_message
from webmail.mailbox import correspondents
from webmail.mailbox.correspondents import Sighting, record
from webmail.mailbox.models import Correspondent

URL = reverse("outbox:recipients")


@pytest.fixture
def writer(teammate):
    account = MailAccountFactory(user=teammate)
    IdentityFactory(user=teammate, account=account, address=teammate.email, display_name="Tom Teammate")
    return teammate


def suggestions(client: Client, query: str) -> list[dict]:
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "private, no-store"
    return json.loads(response.content)


def test_queueing_a_message_collects_its_recipients_once_committed(writer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue_message(writer, to="Ann <ann@example.test>, Tom <TEAMMATE@example.test>", cc="Bob <bob@EXAMPLE.test>")
        assert not Correspondent.objects.exists()  # not before the commit
    rows = {row.address: row for row in Correspondent.objects.filter(user=writer)}
    assert set(rows) == {"ann@example.test", "bob@example.test"}  # never the writer's own address
    assert (rows["ann@example.test"].display_name, rows["ann@example.test"].times_written) == ("Ann", 1)
    with django_capture_on_commit_callbacks(execute=True):
        queue_message(writer, to="ann@example.test")
    rows["ann@example.test"].refresh_from_db()
    assert (rows["ann@example.test"].display_name, rows["ann@example.test"].times_written) == ("Ann", 2)


def test_sending_from_the_compose_page_collects_the_recipients(writer, django_capture_on_commit_callbacks):
    client = sign_in(Client(), writer)
    data = {
        "identity": writer.identities.get().pk,
        "to": "Ann <ann@example.test>",
        "cc": "",
        "bcc": "Carol <carol@example.test>",
        "subject": "Hello",
        "body": "Hi.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("outbox:compose"), data).status_code == 302
    assert [row["address"] for row in suggestions(client, "c")] == ["carol@example.test"]
    assert [row["value"] for row in suggestions(client, "ann")] == ["Ann <ann@example.test>"]


def test_a_failure_to_collect_never_fails_the_send(writer, django_capture_on_commit_callbacks, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("collector broke")

    monkeypatch.setattr(correspondents, "record", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        message = queue_message(writer, to="ann@example.test")
    assert OutgoingMessage.objects.get() == message
    assert "collector broke" in caplog.text


def test_the_endpoint_gives_the_users_own_rows_best_first_at_most_ten(writer, stranger):
    now = timezone.now()
    record(writer.pk, [Sighting(f"ann{i:02d}@example.test", f"Ann {i}", now, written=i % 2 == 0) for i in range(15)])
    record(writer.pk, [Sighting("ann03@example.test", "Ann 3", now, written=True) for _ in range(5)])
    record(stranger.pk, [Sighting("annika@secret.example", "Annika Secret", now, written=True)])
    client = sign_in(Client(), writer)
    found = suggestions(client, "ann")
    assert len(found) == 10
    assert found[0] == {"name": "Ann 3", "address": "ann03@example.test", "value": "Ann 3 <ann03@example.test>"}
    assert all(row["address"].endswith("@example.test") for row in found)
    # The written-to ones (even numbers) come before the received-from ones.
    assert [row["address"] for row in found[1:9]] == [f"ann{i:02d}@example.test" for i in range(0, 15, 2)]
    assert suggestions(client, "annika") == []
    assert suggestions(sign_in(Client(), stranger), "ann") == [
        {"name": "Annika Secret", "address": "annika@secret.example", "value": "Annika Secret <annika@secret.example>"}
    ]


def test_an_empty_or_blank_query_gives_nothing(writer):
    record(writer.pk, [Sighting("ann@example.test", "Ann", timezone.now(), written=True)])
    client = sign_in(Client(), writer)
    assert suggestions(client, "") == []
    assert suggestions(client, "   ") == []
    assert json.loads(client.get(URL).content) == []
    assert suggestions(client, "a" * 5000) == []  # cut to 100 characters, matched as is


def test_the_endpoint_needs_a_signed_in_user_past_the_second_factor(client, writer):
    response = client.get(URL, {"q": "a"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    half = sign_in(Client(), writer, verified=False)
    assert half.get(URL, {"q": "a"}).status_code == 302
    assert sign_in(Client(), writer).post(URL, {"q": "a"}).status_code == 405


@pytest.mark.parametrize(
    ("name", "address", "value"),
    [
        ("", "ann@example.test", "ann@example.test"),
        ("Ann Lee", "ann@example.test", "Ann Lee <ann@example.test>"),
        ("Lee, Ann", "ann@example.test", '"Lee, Ann" <ann@example.test>'),
        ('Ann "the boss"', "ann@example.test", '"Ann \\"the boss\\"" <ann@example.test>'),
        ("Zoë", "zoe@example.test", "Zoë <zoe@example.test>"),
    ],
)
def test_the_value_is_what_the_to_field_parses_back(name, address, value):
    from outbox.compose import parse_addresses

    assert header_value(name, address) == value
    (parsed,) = parse_addresses(value)
    assert (parsed.display_name, parsed.address) == (name, address)
