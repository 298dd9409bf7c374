"""No message is lost or sent twice when a worker, Redis or the SMTP server dies at a bad moment.

A real Celery worker (a subprocess on the test database), a real aiosmtpd submission server, and
for the broker faults a private redis-server this test kills. Leases are 3 seconds here so
that the sweeper can take back what a dead worker held.
"""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.urls import reverse

from outbox import tasks
from outbox.models import MessageState, OutgoingMessage
from tests.helpers import sign_in
from tests.outbox.helpers import FAST, identity_of, queue_message, redis_worker, until
from tests.servers.celery_worker import publishing_to


def state(message: OutgoingMessage) -> str:
    return OutgoingMessage.objects.values_list("state", flat=True).get(pk=message.pk)


def sweep_now() -> None:
    tasks.sweep.delay()


@pytest.mark.parametrize("celery_worker", [{"env": FAST}], indirect=True)
def test_a_message_goes_from_the_database_through_the_broker_to_the_server(sender, smtp_server, celery_worker):
    message = queue_message(sender, to="ann@example.test")
    until(lambda: state(message) == MessageState.SENT)
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("celery_worker", [{"env": FAST}], indirect=True)
def test_a_worker_killed_before_data_leads_to_exactly_one_delivery(sender, smtp_server, celery_worker):
    smtp_server.handler.stall(30, "RCPT")
    message = queue_message(sender, to="ann@example.test")
    smtp_server.handler.wait_until_reached("RCPT")
    celery_worker.kill()
    smtp_server.reset()
    celery_worker.start()
    until(lambda: state(message) == MessageState.SENT, every=sweep_now)
    time.sleep(2)
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("celery_worker", [{"env": FAST}], indirect=True)
def test_a_worker_killed_after_data_leaves_the_message_uncertain_and_unsent(sender, smtp_server, celery_worker):
    smtp_server.handler.stall(30, "DATA")
    message = queue_message(sender, to="ann@example.test")
    smtp_server.handler.wait_until_reached("DATA")
    until(lambda: OutgoingMessage.objects.filter(pk=message.pk, phase="data").exists())
    celery_worker.kill()
    smtp_server.reset()
    celery_worker.start()
    until(lambda: state(message) == MessageState.UNCERTAIN, every=sweep_now)
    for _ in range(3):
        sweep_now()
        time.sleep(1)
    assert state(message) == MessageState.UNCERTAIN
    assert smtp_server.messages == [], "never resent without the user's say"


@pytest.mark.parametrize("celery_worker", [{"env": FAST, "concurrency": 2}], indirect=True)
def test_the_same_message_handed_to_two_worker_processes_is_sent_once(sender, smtp_server, celery_worker):
    smtp_server.handler.stall(1, "MAIL")
    with transaction.atomic():
        message = queue_message(sender, to="ann@example.test")
        transaction.on_commit(lambda: tasks.ring_each([str(message.pk)]))
        transaction.on_commit(lambda: tasks.ring_each([str(message.pk)]))
    until(lambda: state(message) == MessageState.SENT)
    time.sleep(2)
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("celery_worker", [{"env": FAST}], indirect=True)
def test_a_rolled_back_transaction_sends_nothing(sender, smtp_server, celery_worker):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        message = queue_message(sender, to="ann@example.test")
        # A doorbell rung inside the transaction (as a careless caller might) reaches the worker...
        tasks.ring_each([str(message.pk)])
        raise Abort
    # ...which finds no row and sends nothing.
    time.sleep(3)
    assert not OutgoingMessage.objects.exists()
    assert smtp_server.messages == []
    assert "outbox.tasks.deliver" in celery_worker.log_text()


def test_flushing_redis_with_100_messages_queued_loses_none(sender, smtp_server, private_redis, tmp_path):
    worker = redis_worker(tmp_path, private_redis)
    with publishing_to(worker):
        messages = [queue_message(sender, to=f"r{n}@example.test") for n in range(100)]
        private_redis.kill()  # every doorbell is gone
        private_redis.start()
        with worker:
            until(
                lambda: OutgoingMessage.objects.filter(state=MessageState.SENT).count() == 100,
                timeout=60,
                every=sweep_now,
            )
    assert len(smtp_server.messages) == 100
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(f"r{n}@example.test" for n in range(100))
    assert {state(m) for m in messages} == {MessageState.SENT}


def test_redis_down_when_the_user_presses_send_still_queues_and_delivers_later(
    client, sender, smtp_server, private_redis, tmp_path
):
    worker = redis_worker(tmp_path, private_redis)
    sign_in(client, sender)
    with publishing_to(worker):
        private_redis.kill()
        started = time.monotonic()
        response = client.post(
            reverse("outbox:compose"),
            {"identity": identity_of(sender).pk, "to": "ann@example.test", "subject": "Hi", "body": "Hello"},
        )
        assert response.status_code == 302, "the row committed, so the user is told it is queued"
        assert time.monotonic() - started < 10, "a dead broker does not hang the request"
        message = OutgoingMessage.objects.get()
        assert message.state == MessageState.QUEUED
        private_redis.start()
        with worker:
            until(lambda: state(message) == MessageState.SENT, every=sweep_now)
    assert len(smtp_server.messages) == 1
