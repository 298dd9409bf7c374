"""A private redis-server on a free loopback port, for tests that kill or stop the broker."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

from .managed import ManagedServer
from .net import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer(ManagedServer):
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        # Nothing is kept on disk: a restart is an empty broker, like a flushed or replaced Redis.
        self._process = subprocess.Popen(
            [REDIS_SERVER, "--bind", self.host, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not listen on {self.port} within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: whatever was queued is gone."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    stop = kill
