"""The celery_worker fixture: a real worker, on the real broker, against the test database."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from tests.servers.celery_worker import CeleryWorker, CeleryWorkerError, filesystem_broker_options

EXPIRED = "expired-session-0000000000000000"
VALID = "valid-session-00000000000000000000"


def wait_for(condition: Callable[[], bool], worker: CeleryWorker, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s. Worker log:\n{worker.log_text()}")
        time.sleep(0.1)


def add_session(key: str, expires_in: timedelta) -> None:
    Session.objects.create(session_key=key, session_data="e30:", expire_date=timezone.now() + expires_in)


def session_exists(key: str) -> bool:
    return Session.objects.filter(session_key=key).exists()


def test_worker_runs_a_published_task_against_the_test_database(celery_worker: CeleryWorker) -> None:
    add_session(EXPIRED, timedelta(days=-1))
    add_session(VALID, timedelta(days=1))

    clear_expired_sessions.delay()

    wait_for(lambda: not session_exists(EXPIRED), celery_worker, "the expired session deleted")
    assert session_exists(VALID)
    # Run by the worker process, not in this one.
    succeeded = re.compile(r"Task accounts\.tasks\.clear_expired_sessions\[[0-9a-f-]+\] succeeded")
    wait_for(lambda: bool(succeeded.search(celery_worker.log_text())), celery_worker, "the worker logging the task")


@pytest.mark.parametrize("celery_worker", [{"concurrency": 2}], indirect=True, ids=["concurrency=2"])
def test_killed_worker_restarts_and_takes_what_was_queued_meanwhile(celery_worker: CeleryWorker) -> None:
    first_pid = celery_worker.pid
    assert first_pid is not None
    assert "concurrency: 2 (prefork)" in celery_worker.log_text()

    celery_worker.kill()

    assert not celery_worker.running
    with pytest.raises(ProcessLookupError):
        os.killpg(first_pid, 0)  # the pool went down with it
    add_session(EXPIRED, timedelta(days=-1))
    clear_expired_sessions.delay()  # waits in the queue: nobody consumes it now

    celery_worker.restart()

    assert celery_worker.running
    assert celery_worker.pid != first_pid
    wait_for(lambda: not session_exists(EXPIRED), celery_worker, "the queued task run after the restart")


def test_a_worker_that_cannot_start_says_why(tmp_path) -> None:
    worker = CeleryWorker(
        tmp_path, database_url="sqlite:///unused.sqlite3", env={"WEBMAIL_LOGIN_FAILURE_LIMIT": "several"}
    )

    with pytest.raises(CeleryWorkerError, match=r"(?s)exited with \d+ before it was ready:.*LOGIN_FAILURE_LIMIT"):
        worker.start()

    assert not worker.running


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="compares with settings made without REDIS_URL")
def test_the_filesystem_broker_options_named_for_a_run_on_redis_are_those_settings_make(settings, tmp_path):
    moved = filesystem_broker_options(tmp_path)
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"  # what the harness sees in a run on Redis
    assert filesystem_broker_options(tmp_path) == moved
