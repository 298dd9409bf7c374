"""The run's database writers, and the two threads (with their connections) they run on."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connection

from outbox.delivery.outcomes import Claimed, EnvelopeOutcome
from outbox.delivery.writes import write_marks, write_results

log = logging.getLogger(__name__)

T = TypeVar("T")

# Under load, results wait up to RESULTS_LINGER seconds for others to share their write, up to
# RESULTS_BATCH of them: they are not on any message's critical path.
RESULTS_BATCH = 40
RESULTS_LINGER = 0.01


class NotMarked(Exception):
    """A message could not be marked as about to be sent, so it is not: the database failed
    (its lease will lapse and the sweeper queue it again), or the run lost its lease on it."""


class Journal:
    """The run's database writers, each on a thread (and connection) of its own, each writing in
    one transaction whatever piled up while it was busy.

    The "DATA is about to be sent" marks are on every message's critical path, so they have a
    writer to themselves; results only need to be written eventually (under load they wait a
    little for others to share their write), and claims share their thread. A result always
    follows its own mark (it exists only after the mark was committed and the server answered
    the message).
    """

    def __init__(self, executors: tuple[ThreadPoolExecutor, ThreadPoolExecutor]) -> None:
        self.marks_executor, self.results_executor = executors
        self.ledger: dict[str, Claimed] = {}
        self.tokens: list[str] = []  # the leases this run took
        self._marks: list[tuple[str, asyncio.Future[None]]] = []
        self._outcomes: list[EnvelopeOutcome] = []
        self._tasks: dict[str, asyncio.Future[None]] = {}
        self.in_flight = 0  # SMTP transactions under way

    def claimed(self, token: str, ledger: dict[str, Claimed]) -> None:
        self.tokens.append(token)
        self.ledger.update(ledger)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Database work off the critical path (claims, checks), on the results thread."""
        return await asyncio.get_running_loop().run_in_executor(self.results_executor, fn, *args)

    async def mark_data(self, message_id: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((message_id, future))
        self._kick("marks", self._drain_marks)
        await future

    def record(self, outcome: EnvelopeOutcome) -> None:
        self._outcomes.append(outcome)
        self._kick("results", self._drain_results)

    def _kick(self, name: str, drain: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.ensure_future(drain())

    async def _drain_marks(self) -> None:
        loop = asyncio.get_running_loop()
        while self._marks:
            marks, self._marks = self._marks, []
            try:
                ids = [m for m, _f in marks]
                marked = await loop.run_in_executor(self.marks_executor, write_marks, list(self.tokens), ids)
            except Exception:
                log.exception("could not mark %d message(s) as being sent; they are not sent now", len(marks))
                marked = set()
            for message_id, future in marks:
                if message_id in marked:
                    future.set_result(None)
                else:
                    future.set_exception(NotMarked(message_id))

    async def _drain_results(self) -> None:
        loop = asyncio.get_running_loop()
        while self._outcomes:
            if len(self._outcomes) < RESULTS_BATCH and self.in_flight:
                await asyncio.sleep(RESULTS_LINGER)  # more are on their way: let them join this write
            outcomes, self._outcomes = self._outcomes, []
            try:
                await loop.run_in_executor(self.results_executor, write_results, outcomes, self.ledger)
            except Exception:
                log.exception("could not record %d outcome(s); their leases will expire and be swept", len(outcomes))

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            while not task.done():
                await task


# The two database threads of this process's runs, kept from run to run with their
# connections: opening a database connection takes longer than sending a message.
_threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
_threads_pid = 0
_threads_lock = threading.Lock()


def database_threads() -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
    """The marks thread and the results thread, started on first use in this process."""
    global _threads, _threads_pid
    with _threads_lock:
        if _threads is None or _threads_pid != os.getpid():  # none yet, or inherited through fork
            _threads = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-marks"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db"),
            )
            _threads_pid = os.getpid()
        return _threads


def close_database_threads() -> None:
    """Close the runs' database connections and stop their threads (for tests, before their
    database goes; a process that exits just drops them)."""
    global _threads
    with _threads_lock:
        threads, _threads = _threads, None
    if threads is not None and _threads_pid == os.getpid():
        for executor in threads:
            executor.submit(_close_thread_connection).result()
            executor.shutdown(wait=True)


def _close_thread_connection() -> None:
    # `connection` resolves to the calling thread's connection: this must run on the DB thread.
    connection.close()
