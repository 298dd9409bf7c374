from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from accounts.models import Identity
from outbox.compose import Draft, enqueue, parse_addresses
from tests.factories import user_on_test_servers
from tests.servers.celery_worker import CeleryWorker, database_url
from tests.servers.redis import RedisServer

# For worker subprocesses: short leases so the sweeper takes back what a dead worker held.
FAST = {"WEBMAIL_SEND_LEASE_SECONDS": "3", "WEBMAIL_UNDO_SECONDS": "0", "WEBMAIL_SMTP_TIMEOUT": "10"}


def until(condition: Callable[[], bool], timeout: float = 20.0, every: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if every is not None:
            every()
        time.sleep(0.5)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture
def private_redis():
    """A redis-server of the test's own, which it may kill and start again."""
    with RedisServer() as redis:
        yield redis


def redis_worker(tmp_path, redis: RedisServer) -> CeleryWorker:
    from django.db import connection

    return CeleryWorker(
        tmp_path / "worker", database_url=database_url(connection.settings_dict), env=FAST, redis_url=redis.url
    )


@pytest.fixture
def sender(transactional_db, dovecot, smtp_server, mail_account, pki, settings):
    """A user whose account points at the test Dovecot and the STARTTLS submission server.

    The undo window is off, so a message is due the moment it is stored.
    """
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    return user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)


def identity_of(user) -> Identity:
    return Identity.objects.get(user=user, is_default=True)


def queue_message(user, to="rcpt@example.test", **fields):
    draft = Draft(identity=identity_of(user), to=parse_addresses(to), **fields)
    if isinstance(fields.get("cc"), str):
        draft.cc = parse_addresses(fields["cc"])
    return enqueue(user, draft)
