"""Run the web app, a Celery worker and Celery beat together, for `make run`.

One Ctrl-C stops all three; if any of them dies, the others are stopped too, so a broken
worker is never left unnoticed behind a working web page.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start web + Celery worker + beat in the foreground, for trying it out; production uses gunicorn."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port for the web app")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args, addr: str, concurrency: int, **options) -> None:
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [celery, "-A", "webmail", "worker", "--loglevel=INFO", f"--concurrency={concurrency}"],
            "beat": [celery, "-A", "webmail", "beat", "--loglevel=INFO", "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        }
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR)  # noqa: S603 - our own fixed argv
            for name, command in commands.items()
        }
        self.stdout.write(self.style.SUCCESS(f"Webmail is running on http://{addr}/ (Ctrl-C stops everything)"))

        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        try:
            while not stopping:
                for name, process in processes.items():
                    code = process.poll()
                    if code is not None:
                        self.stderr.write(f"{name} exited with status {code}; stopping the others.")
                        exit_code = code or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        if exit_code:
            sys.exit(exit_code)
