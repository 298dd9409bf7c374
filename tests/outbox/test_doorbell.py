"""A burst of sends from one account rings the worker once, and no send is left unrung.

The doorbell (outbox.models.Doorbell) is held back only while one is on its way: the worker
clears it before it looks for due mail, a lost one stops counting after a while, and one the
broker refused does not count at all. A private redis-server shows what was published.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis as redis_client
from django.utils import timezone

from outbox.models import Doorbell, MessageState, OutgoingMessage
from outbox.tasks import DOORBELL_PATIENCE
from tests.factories import user_on_test_servers
from tests.outbox.helpers import queue_message, redis_worker, until
from tests.servers.celery_worker import publishing_to
from tests.servers.fixtures import MailAccount


@pytest.fixture
def other_sender(sender, dovecot, smtp_server, pki):
    """A second user with a mail account of their own on the same servers."""
    account = MailAccount(f"other-{uuid.uuid4().hex[:12]}@example.test", "imap-secret-2")
    dovecot.add_user(account.address, account.password)
    smtp_server.add_user(account.address, account.password)
    return user_on_test_servers(account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)


def waiting(redis_url: str, queue: str) -> int:
    """Doorbells published to ``queue`` and not yet taken by a worker."""
    return redis_client.Redis.from_url(redis_url).llen(queue)


def sent() -> int:
    return OutgoingMessage.objects.filter(state=MessageState.SENT).count()


def test_a_burst_from_one_account_rings_once_and_everything_is_sent_once(sender, smtp_server, private_redis, tmp_path):
    worker = redis_worker(tmp_path, private_redis)
    with publishing_to(worker):
        for n in range(20):
            queue_message(sender, to=f"r{n}@example.test")
        assert waiting(private_redis.url, worker.queue) == 1
        with worker:
            until(lambda: sent() == 20, timeout=60)  # no sweeper: the one doorbell was enough
            until(lambda: not Doorbell.objects.filter(rung_at__isnull=False).exists())
            later = queue_message(sender, to="later@example.test")  # after the worker answered: rings again
            until(lambda: OutgoingMessage.objects.get(pk=later.pk).state == MessageState.SENT)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(
        [f"r{n}@example.test" for n in range(20)] + ["later@example.test"]
    )


def test_a_doorbell_lost_with_the_broker_stops_holding_back_the_next_after_a_while(
    sender, smtp_server, private_redis, tmp_path
):
    worker = redis_worker(tmp_path, private_redis)
    with publishing_to(worker):
        queue_message(sender)
        assert waiting(private_redis.url, worker.queue) == 1
        private_redis.kill()  # the doorbell is gone; the row still says one is on its way
        private_redis.start()
        queue_message(sender)
        assert waiting(private_redis.url, worker.queue) == 0, "held back: one is (believed) on its way"
        Doorbell.objects.update(rung_at=timezone.now() - DOORBELL_PATIENCE - timedelta(seconds=1))
        queue_message(sender)
        assert waiting(private_redis.url, worker.queue) == 1
        with worker:
            until(lambda: sent() == 3, timeout=30)
    assert len(smtp_server.messages) == 3


def test_a_doorbell_the_broker_refused_does_not_hold_back_the_next(sender, smtp_server, private_redis, tmp_path):
    worker = redis_worker(tmp_path, private_redis)
    with publishing_to(worker):
        private_redis.kill()
        queue_message(sender)  # stored; the publish fails and is logged
        assert Doorbell.objects.get().rung_at is None
        private_redis.start()
        queue_message(sender)
        assert waiting(private_redis.url, worker.queue) == 1
        with worker:
            until(lambda: sent() == 2, timeout=30)  # the one doorbell takes both: all due mail of the account
    assert len(smtp_server.messages) == 2


def test_each_account_has_its_own_doorbell(sender, other_sender, smtp_server, private_redis, tmp_path):
    worker = redis_worker(tmp_path, private_redis)
    with publishing_to(worker):
        for _ in range(3):
            queue_message(sender)
            queue_message(other_sender)
        assert waiting(private_redis.url, worker.queue) == 2
