"""Run the web app, a Celery worker, Celery beat and the mail watcher together, for `make run`.

One Ctrl-C stops all four; if any of them dies, the others are stopped too, so a broken
worker is never left unnoticed behind a working web page.

It creates the first admin when there is none, and prints a generated password last, in a box,
once all four have said they are up, so that it does not scroll away among their banners.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.management.commands.ensure_admin import create_first_admin, first_admin_box

# The last line each one writes when it has started (runserver's own warning is hidden below,
# and said once in our own words instead).
READY = {
    "web": re.compile(r"^Quit the server with "),
    "worker": re.compile(r"\S@\S+ ready\.\s*$"),
    "beat": re.compile(r"beat: Starting\.\.\.\s*$"),
    "watcher": re.compile(r"^Mail watcher \S+ started "),
}
# Should a banner change and a line never match, the box is printed after this anyway.
READY_TIMEOUT = 60.0


class Relay:
    """Copies the children's output to ours, line by line, and notes when each is ready."""

    def __init__(self, write: Callable[[str], None], names: list[str]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._waiting = set(names)
        self._all_ready = threading.Event()
        if not self._waiting:
            self._all_ready.set()

    def follow(self, name: str, stream: IO[bytes]) -> threading.Thread:
        thread = threading.Thread(target=self._copy, args=(name, stream), name=f"relay-{name}", daemon=True)
        thread.start()
        return thread

    def _copy(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._lock:
                self._write(line)
                if name in self._waiting and READY[name].search(line):
                    self._waiting.discard(name)
                    if not self._waiting:
                        self._all_ready.set()

    def wait_ready(self, timeout: float) -> bool:
        return self._all_ready.wait(timeout)

    def say(self, text: str) -> None:
        """Our own lines, never in the middle of a child's."""
        with self._lock:
            self._write(text)


class Command(BaseCommand):
    help = "Start web, Celery worker, beat and mail watcher in the foreground, for trying it out (not production)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port for the web app")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args, addr: str, concurrency: int, **options) -> None:
        first_admin = create_first_admin()
        relay, processes = self._start(addr, concurrency)
        self.stopping = False

        def stop(signum, frame) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.announced = False
        exit_code = 0
        try:
            exit_code = self._watch(relay, processes, addr, first_admin)
        finally:
            _stop_all(processes)
            if first_admin is not None and not self.announced:
                # Never lose a generated password, even when start-up failed.
                relay.say(first_admin_box(*first_admin))
        if exit_code:
            sys.exit(exit_code)

    def _start(self, addr: str, concurrency: int) -> tuple[Relay, dict[str, subprocess.Popen]]:
        """The web app, a worker, beat and the mail watcher, each with its output relayed, prefixed by its name."""
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [celery, "-A", "webmail", "worker", "--loglevel=INFO", f"--concurrency={concurrency}"],
            "beat": [celery, "-A", "webmail", "beat", "--loglevel=INFO", "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
            "watcher": [python, "manage.py", "watch_mail"],
        }
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_RUNSERVER_HIDE_WARNING": "true"}
        relay = Relay(lambda line: self.stdout.write(line), list(commands))
        processes = {}
        for name, command in commands.items():
            processes[name] = subprocess.Popen(  # noqa: S603 - our own fixed argv
                command,
                cwd=settings.BASE_DIR,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            output = processes[name].stdout
            assert output is not None  # stdout=PIPE
            relay.follow(name, output)
        return relay, processes

    def _watch(self, relay: Relay, processes: dict[str, subprocess.Popen], addr: str, first_admin: tuple | None) -> int:
        """Until Ctrl-C or one of them exits: say where the site is once it is up (and set
        ``announced``). Returns the exit status to end with."""
        started = time.monotonic()
        while not self.stopping:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    relay.say(f"{name} exited with status {code}; stopping the others.")
                    return code or 1
            if self.announced:
                time.sleep(0.5)
            elif relay.wait_ready(0.5) or time.monotonic() - started > READY_TIMEOUT:
                self.announced = True
                lines = [
                    self.style.SUCCESS(f"Webmail is running on http://{addr}/ (Ctrl-C stops everything)"),
                    "This is Django's development server, for trying it out; see docs/DEPLOY.md for production.",
                ]
                if first_admin is not None:
                    lines.append(first_admin_box(*first_admin))
                relay.say("\n".join(lines))
        return 0


def _stop_all(processes: dict[str, subprocess.Popen]) -> None:
    """Terminate what still runs; kill what has not stopped ten seconds later."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
