"""Helpers for the server processes the fixtures start."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def reap_process_group(pgid: int, timeout: float = 5.0) -> None:
    """Wait for a group's remaining members (children of a stopped master) to exit, then
    SIGKILL whatever is left of it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)  # succeeds while any member is left
        except ProcessLookupError:
            return
        time.sleep(0.05)
    # Members still exist, so the group id is still ours and cannot hit anyone else.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def local_install(tmp_path: Path) -> dict[str, str]:
    """The environment of `make run` with no configuration (SQLite, the filesystem broker), with
    its var/ under ``tmp_path``: this process's environment without the project's settings."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WEBMAIL_", "SECRET_KEY", "ALLOWED_", "DATABASE_URL", "REDIS_URL"))
    }
    environment["WEBMAIL_VAR_DIR"] = str(tmp_path / "var")
    return environment
