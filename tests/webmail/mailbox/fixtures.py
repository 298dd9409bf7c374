"""Fixtures of the mailbox tests (the ``reader`` account comes from tests/webmail/fixtures.py),
imported by name by tests/webmail/mailbox/conftest.py and tests/browser/conftest.py."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from tests.helpers import sign_in
from webmail.mailbox import tasks


@pytest.fixture
def published(monkeypatch) -> list[tuple]:
    """Tasks the views publish, recorded instead of sent to a broker."""
    calls: list[tuple] = []

    def record(task, *args) -> bool:
        calls.append((task.name, *args))
        return True

    monkeypatch.setattr(tasks, "publish", record)
    return calls


@pytest.fixture
def reader_client(reader, published) -> Client:
    return sign_in(Client(), reader.user)


@pytest.fixture
def closed_port():
    """A loopback port that refuses connections: bound, never listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
