"""Helpers for the server processes the fixtures start."""

from __future__ import annotations

import contextlib
import os
import signal
import time


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
