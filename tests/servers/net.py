"""Loopback networking helpers: free ports and a source-address-changing relay.

Why the relay: Dovecot 2.3 counts a connection whose remote IP equals its local IP as
"secured" and then allows plaintext LOGIN even with ``disable_plaintext_auth``.
Test clients dial 127.0.0.1 from 127.0.0.1, so on the STARTTLS port a client
that forgot STARTTLS would log in happily and the tests would miss the bug.
Dovecot has no setting for this, so the relay accepts on 127.0.0.1 and dials
Dovecot from 127.0.0.2: still loopback, but no longer "the same IP".
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from .managed import ManagedServer

_ACCEPT_POLL_SECONDS = 0.2
_JOIN_TIMEOUT_SECONDS = 5.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, for servers that must be told a port.

    Racy by nature (another process may take it before the server binds), so
    servers that can bind port 0 themselves should do that instead.
    """
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LoopbackRelay(ManagedServer):
    """Forward ``host:port`` to ``host:target_port``, connecting from ``source_ip``."""

    def __init__(
        self,
        target_port: int,
        *,
        host: str = "127.0.0.1",
        source_ip: str = "127.0.0.2",
        connect_timeout: float = 5.0,
    ) -> None:
        self.host = host
        self.target_port = target_port
        self.source_ip = source_ip
        self.connect_timeout = connect_timeout
        self.port = 0
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        # Fail here, readably, where only 127.0.0.1 is local (macOS, some jails),
        # rather than with every relayed connection being closed at once.
        with socket.socket() as probe:
            try:
                probe.bind((self.source_ip, 0))
            except OSError as error:
                raise OSError(f"the relay needs {self.source_ip} as a local address: {error}") from error
        self._stopping.clear()
        listener = socket.create_server((self.host, 0))
        # Polling lets stop() end the accept loop without platform-specific tricks.
        listener.settimeout(_ACCEPT_POLL_SECONDS)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop, listener)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for sock in sockets:
            _shutdown_quietly(sock)  # wakes pump threads blocked in recv()
        for thread in threads:
            thread.join(_JOIN_TIMEOUT_SECONDS)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(
                (self.host, self.target_port),
                timeout=self.connect_timeout,
                source_address=(self.source_ip, 0),
            )
        except OSError:
            client.close()  # the client sees the same refusal Dovecot would give
            return
        client.settimeout(None)
        upstream.settimeout(None)  # IMAP IDLE may sit quietly for a long time
        with self._lock:
            if self._stopping.is_set():
                client.close()
                upstream.close()
                return
            self._sockets.update((client, upstream))
        backwards = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        backwards.start()
        _pump(client, upstream)
        backwards.join(_JOIN_TIMEOUT_SECONDS)
        with self._lock:
            self._sockets.difference_update((client, upstream))
        client.close()
        upstream.close()


def _pump(source: socket.socket, destination: socket.socket) -> None:
    """Copy bytes one way; pass a half-close on so the other side sees EOF."""
    try:
        while data := source.recv(65536):
            destination.sendall(data)
    except OSError:
        _shutdown_quietly(source)  # a reset on one leg must end the other leg too
    with contextlib.suppress(OSError):
        destination.shutdown(socket.SHUT_WR)


def _shutdown_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
