"""Helpers of the outbox tests: a message queued as the composer would, waiting for a worker,
a worker of a test's own, the delivery reports in tests/outbox/reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from accounts.models import Identity
from outbox.compose import Draft, parse_addresses
from outbox.models import OutgoingMessage
from outbox.sending import enqueue
from tests.servers.celery_worker import CeleryWorker, database_url
from tests.servers.redis import RedisServer

# For worker subprocesses: short leases so the sweeper takes back what a dead worker held.
FAST = {"WEBMAIL_SEND_LEASE_SECONDS": "3", "WEBMAIL_UNDO_SECONDS": "0", "WEBMAIL_SMTP_TIMEOUT": "10"}
REPORTS = Path(__file__).parent / "reports"


def until(condition: Callable[[], bool], timeout: float = 20.0, every: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if every is not None:
            every()
        time.sleep(0.5)
    raise AssertionError(f"not true within {timeout} s")


def redis_worker(tmp_path, redis: RedisServer) -> CeleryWorker:
    from django.db import connection

    return CeleryWorker(
        tmp_path / "worker", database_url=database_url(connection.settings_dict), env=FAST, redis_url=redis.url
    )


def identity_of(user) -> Identity:
    return Identity.objects.get(user=user, is_default=True)


def queue_message(user, to="rcpt@example.test", **fields):
    draft = Draft(identity=identity_of(user), to=parse_addresses(to), **fields)
    if isinstance(fields.get("cc"), str):
        draft.cc = parse_addresses(fields["cc"])
    return enqueue(user, draft)


def report(name: str, message: OutgoingMessage | None = None, envid: str | None = None) -> bytes:
    raw = (REPORTS / name).read_text()
    raw = raw.replace("{ENVID}", envid if envid is not None else str(message.pk) if message else "")
    raw = raw.replace("{MESSAGE_ID}", message.message_id if message else "<none@x>")
    return raw.replace("\n", "\r\n").encode()
