"""`make run`'s serve: the first admin's generated password comes last, boxed, once web, worker
and beat have all said they are up, and not among their banners."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.servers.net import free_port
from tests.servers.process import local_install, reap_process_group

ROOT = Path(__file__).resolve().parents[2]
# A guard against a hang, not a measurement: start-up takes a few seconds.
START_LIMIT = 120.0


def manage(environment: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_generated_password_is_printed_last_in_a_box(tmp_path):
    environment = local_install(tmp_path)
    migrated = manage(environment, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr

    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{free_port()}", "--concurrency", "1"],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C goes to serve and its children together, as in a terminal
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, serve.stdout), lines.put(None)], daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + START_LIMIT
        while not _box_closed(seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "serve ended before the box:\n" + "".join(seen)
            seen.append(line)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        finally:
            reap_process_group(serve.pid)
    output = [line.rstrip("\n") for line in seen]

    def first(pattern: str) -> int:
        return next(n for n, line in enumerate(output) if re.search(pattern, line))

    box_top = first(r"^\| Created the first admin: admin@localhost") - 1
    assert re.fullmatch(r"\+-+\+", output[box_top])
    for ready in (r"^Quit the server with ", r"@\S+ ready\.$", r"beat: Starting\.\.\.$", r"Webmail is running on"):
        assert first(ready) < box_top, ready
    assert not any("WARNING: This is a development server" in line for line in output)

    password = next(re.match(r"\| Password: (\S+)", line).group(1) for line in output if line.startswith("| Password:"))
    checked = manage(
        environment,
        "shell",
        "--no-imports",
        "-c",
        "import sys; from accounts.models import User; "
        "print(User.objects.get(email='admin@localhost').check_password(sys.stdin.readline().strip()))",
        stdin=password + "\n",
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "True"
    assert serve.returncode == 0


def _box_closed(seen: list[str]) -> bool:
    """The box's bottom rule has come, after its first line."""
    tops = [n for n, line in enumerate(seen) if line.startswith("| Created the first admin")]
    return bool(tops) and any(re.fullmatch(r"\+-+\+\n?", line) for line in seen[tops[0] :])
