"""A real Celery worker (``celery -A webmail worker``) in a subprocess, owned by a test.

The worker is configured the way production configures it, through the environment that
webmail/settings.py reads, with every value taken from the test process:

* database: ``DATABASE_URL`` names the *test* database the test process is using (see
  ``database_url``). An in-memory SQLite database cannot be shared with another process, so
  with SQLite the test database must be a file (tests/servers/fixtures.py arranges that).
* broker: ``REDIS_URL`` when the test process has one; otherwise kombu's filesystem transport
  under ``WEBMAIL_VAR_DIR``, which points into the worker's work directory.
* keys: ``SECRET_KEY`` and ``WEBMAIL_SECRET_KEYS`` are the test process's, so the worker can
  decrypt the mail passwords the test stored.
* queue: a queue of its own (``-Q``), so test runs sharing one Redis never take each
  other's tasks. Only for consuming, though: tasks the worker itself publishes (a task that
  enqueues another) go to its default queue, "celery", which it does not read, because
  settings.py has no environment variable for CELERY_TASK_DEFAULT_QUEUE.

The test process must publish where the worker consumes; ``publishing_to(worker)`` points
the project's Celery app at the worker's broker and queue for as long as it is active.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from .managed import ManagedServer
from .process import reap_process_group

CELERY = Path(sys.executable).with_name("celery")
PROJECT_DIR = Path(__file__).resolve().parents[2]
SQLITE = "django.db.backends.sqlite3"
# Settings the worker gets from us; their *_FILE twins are dropped, as settings.py refuses both.
_FROM_TEST_PROCESS = ("DATABASE_URL", "SECRET_KEY", "WEBMAIL_SECRET_KEYS", "REDIS_URL")


class CeleryWorkerError(RuntimeError):
    """The worker failed to start; the message carries its log."""


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL with which settings.py opens the database ``settings_dict`` names.

    Pass ``django.db.connection.settings_dict`` once the test database exists: its NAME is
    then the test database's (``test_webmail``, ``test_webmail_gw0``, a SQLite file).
    """
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == SQLITE:
        if name == ":memory:" or "mode=memory" in name:
            raise CeleryWorkerError(
                "The SQLite test database is in memory, where no other process can reach it; "
                "give it a file with DATABASES['default']['TEST']['NAME'] (the celery_worker fixture does)."
            )
        return f"sqlite:///{Path(name).resolve()}"
    # Anything else came from DATABASE_URL: keep host, credentials and options, swap the name.
    from webmail.env import env_secret

    url = env_secret("DATABASE_URL")
    if not url:
        raise CeleryWorkerError(f"{settings_dict['ENGINE']} database without a DATABASE_URL to derive one from")
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(name, safe="")))


def filesystem_broker_options(var_dir: Path) -> dict[str, Any]:
    """CELERY_BROKER_TRANSPORT_OPTIONS as settings.py makes them for ``WEBMAIL_VAR_DIR=var_dir``
    and no REDIS_URL.

    When this process has no REDIS_URL either, every path of its own options under its VAR_DIR
    moves to ``var_dir``, so it follows settings.py. When it has one (a worker on the
    filesystem broker in a test run on Redis), its options are Redis's, and the folders are
    named here as settings.py names them.
    """
    from django.conf import settings

    if settings.REDIS_URL:
        broker = var_dir / "broker"
        return {
            "control_folder": str(broker / "control"),
            "data_folder_in": str(broker / "queue"),
            "data_folder_out": str(broker / "queue"),
            "processed_folder": str(broker / "processed"),
            "store_processed": False,
            "polling_interval": 0.1,
        }

    def moved(value: Any) -> Any:
        if isinstance(value, str) and Path(value).is_relative_to(settings.VAR_DIR):
            return str(var_dir / Path(value).relative_to(settings.VAR_DIR))
        return value

    return {key: moved(value) for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()}


class CeleryWorker(ManagedServer):
    """``celery -A webmail worker`` with a prefork pool, consuming its own queue.

    ``start()`` returns once the worker has logged that it is ready; ``stop()`` is a warm
    shutdown (running tasks finish), ``kill()`` a crash (SIGKILL to the worker and its pool
    at once), and ``restart()`` starts it again with the same name, queue and broker, so
    messages left in the queue are picked up. Output goes to ``log_path``, across restarts.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str,
        concurrency: int = 1,
        queue: str | None = None,
        env: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        start_timeout: float = 20.0,
        stop_timeout: float = 20.0,
    ) -> None:
        from django.conf import settings

        self.workdir = workdir
        self.database_url = database_url
        self.concurrency = concurrency
        self.name = f"webmail-test-{uuid.uuid4().hex[:12]}"
        self.nodename = f"{self.name}@{socket.gethostname()}"  # what -n NAME@%h expands to
        self.queue = queue or self.name
        self.extra_env = dict(env or {})
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.var_dir = workdir / "var"
        self.log_path = workdir / "worker.log"
        self.startup_seconds: float | None = None  # how long the last start() waited
        # A Redis of the test's own (to kill it, say) instead of the one in settings.
        self._redis_url: str = (settings.REDIS_URL or "") if redis_url is None else redis_url
        self._secret_key: str = settings.SECRET_KEY
        self._secret_keys: str = ",".join(settings.WEBMAIL_SECRET_KEYS)
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = re.compile(rf"\b{re.escape(self.name)}@\S+ ready\.")

    # -- what the test process needs to publish to this worker -------------

    @property
    def broker_url(self) -> str:
        return self._redis_url or "filesystem://"

    @property
    def broker_transport_options(self) -> dict[str, Any]:
        if self._redis_url:
            from django.conf import settings

            return dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        return filesystem_broker_options(self.var_dir)

    # -- lifecycle ---------------------------------------------------------

    @property
    def command(self) -> list[str]:
        return [
            str(CELERY),
            "-A",
            "webmail",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={self.concurrency}",
            "--pool=prefork",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.name}@%h",
            "-Q",
            self.queue,
        ]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._process is not None:
            raise CeleryWorkerError(f"{self.nodename} is already started; stop() or kill() it first")
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} starting {self.nodename}\n".encode())
            log.flush()
            offset = log.tell()
            began = time.monotonic()
            # Its own session makes the worker and its pool one process group, for kill().
            # It runs in the work directory, so that nothing it writes to a relative path
            # lands in the checkout; PYTHONPATH (see _environment) finds the project.
            self._process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready(offset)
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ fails
            raise
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Warm shutdown, SIGKILL after ``stop_timeout``; safe to call more than once."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            # SIGTERM to the main process only: it lets running tasks finish, then ends its pool.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        reap_process_group(process.pid)

    def kill(self) -> None:
        """Crash the worker: SIGKILL to it and its pool processes at once, no warm shutdown."""
        process, self._process = self._process, None
        if process is None:
            raise CeleryWorkerError(f"{self.nodename} is not running")
        # Until the main process is reaped its group id cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        reap_process_group(process.pid)

    def restart(self) -> None:
        """Stop (if still running) and start again: same name, queue, broker and log."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- internals ---------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in _FROM_TEST_PROCESS:
            env.pop(name, None)
            env.pop(f"{name}_FILE", None)
        env.update(
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "webmail.settings"),
            WEBMAIL_VAR_DIR=str(self.var_dir),
            DATABASE_URL=self.database_url,
            SECRET_KEY=self._secret_key,
            WEBMAIL_SECRET_KEYS=self._secret_keys,
            # What the worker publishes itself (the sweeper's doorbells) comes back to it.
            WEBMAIL_CELERY_QUEUE=self.queue,
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        if self._redis_url:
            env["REDIS_URL"] = self._redis_url
        env.update(self.extra_env)
        return env

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _wait_until_ready(self, offset: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.search(self._log_since(offset)):
            if self._process.poll() is not None:
                raise CeleryWorkerError(
                    f"Celery worker exited with {self._process.returncode} before it was ready:\n{self.log_text()}"
                )
            if time.monotonic() > deadline:
                raise CeleryWorkerError(f"Celery worker not ready within {self.start_timeout} s:\n{self.log_text()}")
            time.sleep(0.05)


@contextlib.contextmanager
def publishing_to(worker: CeleryWorker) -> Iterator[None]:
    """Make ``delay()``/``apply_async()`` in this process publish to ``worker``'s broker and queue.

    On exit the worker's queue is deleted (with any messages left in it, so nothing
    accumulates in a shared Redis) and the app's previous configuration restored.
    """
    from webmail.celery import app

    overrides = {
        "broker_url": worker.broker_url,
        "broker_transport_options": worker.broker_transport_options,
        "task_default_queue": worker.queue,
    }
    saved = {key: app.conf[key] for key in overrides}
    _drop_broker_connections(app)
    app.conf.update(overrides)
    try:
        yield
    finally:
        try:
            _delete_queue(app, worker.queue)
        finally:
            _drop_broker_connections(app)
            app.conf.update(saved)


def _drop_broker_connections(app: Any) -> None:
    # The app caches its connection and producer pools, built from the broker settings of
    # their first use; drop them so the next publish connects with the current settings.
    from kombu import pools

    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")  # a cached_property: absent until first used
    if amqp is not None:
        amqp._producer_pool = None


def _delete_queue(app: Any, name: str) -> None:
    # Best effort, never failing a test. The filesystem broker's folder goes with the work directory.
    if app.conf.broker_url.startswith("filesystem:"):
        return
    with contextlib.suppress(Exception), app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        # The declaration the worker made for -Q NAME (a direct exchange and key named NAME),
        # repeated because kombu deletes only the bindings this connection knows of.
        queue = app.amqp.queues[name].bind(connection.default_channel)
        queue.declare()
        queue.delete()
