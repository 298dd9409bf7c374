"""The hourly Test-connection limit holds when the requests come all at once."""

import socket
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import ConnectionCheck, Security
from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import sign_in


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never says a word: each check waits out its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def test_simultaneous_tests_cannot_run_past_the_limit(transactional_db, settings, silent_port):
    settings.WEBMAIL_CONNECTION_TESTS_PER_HOUR = 20
    settings.WEBMAIL_CONNECT_TIMEOUT = 1
    user = UserFactory()
    account = MailAccountFactory(
        user=user,
        imap_port=silent_port,
        imap_security=Security.NONE,
        smtp_port=silent_port,
        smtp_security=Security.NONE,
    )
    url = reverse("accounts:test_connection", args=[account.pk])
    clients = [sign_in(Client(), user) for _ in range(30)]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def press(client: Client) -> None:
        try:
            start.wait()
            statuses.append(client.post(url, headers={"HX-Request": "true"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 20 + [429] * 10
    assert ConnectionCheck.objects.filter(requested_by=user).count() == 20
    assert set(ConnectionCheck.objects.values_list("imap_message", "smtp_message")) == {("timed out", "timed out")}
