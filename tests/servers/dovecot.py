"""A private Dovecot IMAP server on loopback, configured and owned by the tests.

It never reads /etc/dovecot or uses /run/dovecot: the config is generated into
the work directory and passed with ``-c``, and base_dir, state_dir, the log,
the user database and all mail live there too. The config (dovecot.conf.in)
is written for Dovecot 2.3 (Debian 12 ships 2.3.19); 2.4 renamed several
settings, e.g. disable_plaintext_auth became auth_allow_cleartext.
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import re
import signal
import socket
import ssl
import stat
import string
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from imapclient import IMAPClient

from .certs import TestPKI
from .managed import ManagedServer
from .net import LoopbackRelay, free_port
from .process import reap_process_group

DOVECOT = Path("/usr/sbin/dovecot")
DOVEADM = Path("/usr/bin/doveadm")
# Debian's dovecot-lmtpd; without it the server speaks IMAP only and lmtp_socket_path is None.
DOVECOT_LMTP = Path("/usr/lib/dovecot/lmtp")
SPECIAL_USE_FOLDERS = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Junk": "\\Junk",
    "Trash": "\\Trash",
    "Archive": "\\Archive",
}
# The user name ends up in a file name (one passwd-file per user, see
# dovecot.conf.in) and passwd-file is colon-separated, so keep addresses plain.
_ADDRESS = re.compile(r"[a-z0-9._+-]+@[a-z0-9.-]+")
_START_ATTEMPTS = 3  # retried only when a port picked as free got taken meanwhile
_IO_TIMEOUT = 10.0

_CONFIG_TEMPLATE = Path(__file__).with_name("dovecot.conf.in")
_MAILBOX = "  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}"


class DovecotError(RuntimeError):
    """Dovecot failed to start; the message carries its log."""


class Dovecot(ManagedServer):
    """Dovecot with IMAPS (implicit TLS) and IMAP+STARTTLS on 127.0.0.1."""

    host = "127.0.0.1"

    def __init__(
        self, workdir: Path, pki: TestPKI, *, start_timeout: float = 10.0, settings: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.settings = settings or {}  # appended to the configuration, e.g. for a benchmark's variant
        self.pki = pki
        self.start_timeout = start_timeout
        self.config_path = workdir / "dovecot.conf"
        self.log_path = workdir / "dovecot.log"
        self.imaps_port = 0
        self.imap_port = 0  # the relay's port; see net.py for why clients don't dial Dovecot directly
        self._direct_imap_port = 0
        # Unix sockets for an MTA in front of this server (see postfix.py): SASL
        # authentication against the same users, and LMTP delivery into their mailboxes.
        self.auth_socket_path = workdir / "run" / "auth-postfix"
        self.lmtp_socket_path: Path | None = workdir / "run" / "lmtp" if DOVECOT_LMTP.exists() else None
        self._stderr_path = workdir / "dovecot.stderr"
        self._process: subprocess.Popen[bytes] | None = None
        self._relay: LoopbackRelay | None = None
        self._passwords: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        if not DOVECOT.exists():
            raise DovecotError(f"{DOVECOT} not found; `make test` installs dovecot-imapd")
        self._prepare_workdir()
        try:
            self._start_dovecot()
            self._relay = LoopbackRelay(self._direct_imap_port, host=self.host)
            self._relay.start()
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ fails
            raise
        self.imap_port = self._relay.port

    def stop(self) -> None:
        """Stop Dovecot and every process it forked; safe to call more than once."""
        if self._relay is not None:
            self._relay.stop()
            self._relay = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            # Signal the whole group at once: on its own the master exits quickly
            # but leaves log, config, imap and other children behind for seconds.
            # While the master is unreaped its group id cannot have been reused.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        reap_process_group(process.pid)

    # -- users and mail ----------------------------------------------------

    def add_user(self, address: str, password: str) -> None:
        """Create the account, or change its password; works while running."""
        address = address.lower()  # matches auth_username_format = %Lu
        if not _ADDRESS.fullmatch(address):
            raise ValueError(f"unsupported test address {address!r}")
        # PLAIN.b64 lets a test password contain anything, colons included.
        encoded = base64.b64encode(password.encode()).decode("ascii")
        line = f"{address}:{{PLAIN.b64}}{encoded}::::::\n"
        path = self.workdir / "users" / address
        existed = path.exists()
        temporary = path.with_name(f".{address}.tmp")
        temporary.write_text(line)
        temporary.chmod(0o644)  # read by the unprivileged auth process
        temporary.replace(path)  # atomic: auth never reads a half-written file
        self._passwords[address] = password
        if existed and self._process is not None:
            self._wait_for_password(address, password)

    def login(self, address: str) -> IMAPClient:
        """An IMAPClient logged in as ``address`` over implicit TLS."""
        client = IMAPClient(
            self.host,
            self.imaps_port,
            ssl=True,
            ssl_context=ssl.create_default_context(cafile=str(self.pki.ca_path)),
            timeout=_IO_TIMEOUT,
        )
        try:
            # AUTHENTICATE PLAIN, unlike LOGIN, carries non-ASCII passwords (UTF-8).
            client.plain_login(address, self._password_of(address))
        except Exception:
            client.shutdown()
            raise
        return client

    def deliver(self, address: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()) -> int:
        """Put ``raw`` into ``folder`` of ``address`` (IMAP APPEND); returns its UID."""
        with self.login(address) as client:
            response = client.append(folder, raw, flags=tuple(flags))
        match = re.search(rb"APPENDUID \d+ (\d+)", response)
        if match is None:
            raise DovecotError(f"APPEND gave no UID: {response!r}")
        return int(match.group(1))

    def mailbox_messages(self, address: str, folder: str = "INBOX") -> list[bytes]:
        """Raw messages of ``folder`` in UID order, without setting \\Seen."""
        with self.login(address) as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        return [fetched[uid][b"BODY[]"] for uid in uids]

    def log_text(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self._stderr_path, self.log_path) if p.exists()]
        return "".join(parts)

    # -- internals ---------------------------------------------------------

    def _password_of(self, address: str) -> str:
        try:
            return self._passwords[address.lower()]
        except KeyError:
            raise KeyError(f"{address} is not a Dovecot test user; call add_user() first") from None

    def _prepare_workdir(self) -> None:
        mail_uid, mail_gid = _identity()[3:]
        for directory in (self.workdir, *(self.workdir / n for n in ("run", "state", "users", "mail"))):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)  # Dovecot's unprivileged processes read the user files
        os.chown(self.workdir / "mail", mail_uid, mail_gid)
        if os.geteuid() == 0:
            _require_traversable(self.workdir)

    def _write_config(self) -> None:
        login_user, internal_user, internal_group, mail_uid, mail_gid = _identity()
        mailboxes = "\n".join(_MAILBOX.format(name=n, flag=f) for n, f in SPECIAL_USE_FOLDERS.items())
        template = string.Template(_CONFIG_TEMPLATE.read_text())
        self.config_path.write_text(
            template.substitute(
                workdir=self.workdir,
                protocols="imap lmtp" if self.lmtp_socket_path is not None else "imap",
                cert=self.pki.cert_path,
                key=self.pki.key_path,
                login_user=login_user,
                internal_user=internal_user,
                internal_group=internal_group,
                mail_uid=mail_uid,
                mail_gid=mail_gid,
                # chroot needs root; without root Dovecot runs everything as the current
                # user, so the defaults of the services a test session starts are cleared.
                login_chroot="login" if os.geteuid() == 0 else "",
                anvil_chroot="empty" if os.geteuid() == 0 else "",
                imap_port=self._direct_imap_port,
                imaps_port=self.imaps_port,
                mailboxes=mailboxes,
            )
            + "".join(f"{name} = {value}\n" for name, value in self.settings.items())
        )

    def _start_dovecot(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.imaps_port, self._direct_imap_port = free_port(), free_port()
            self._write_config()
            self._spawn()
            try:
                self._wait_until_ready()
                return
            except DovecotError:
                port_raced = "Address already in use" in self.log_text()
                self.stop()
                if not port_raced or attempt == _START_ATTEMPTS:
                    raise

    def _spawn(self) -> None:
        with self._stderr_path.open("wb") as stderr:
            # -F keeps the master in the foreground so it stays our child; its own
            # session makes it and everything it forks one process group to clean up.
            self._process = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until_ready(self) -> None:
        # imap-login greets only once the auth process is up, so a greeting means
        # logins will work; the implicit-TLS listener belongs to the same process.
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise DovecotError(f"Dovecot exited with {self._process.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self._direct_imap_port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        socket.create_connection((self.host, self.imaps_port), timeout=1).close()
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise DovecotError(f"Dovecot not ready within {self.start_timeout} s:\n{self.log_text()}")

    def _wait_for_password(self, address: str, password: str) -> None:
        # A changed passwd-file may be re-read only in the next second; wait for it.
        command = [str(DOVEADM), "-c", str(self.config_path), "auth", "test", address, password]
        deadline = time.monotonic() + 3
        while subprocess.run(command, check=False, capture_output=True, timeout=_IO_TIMEOUT).returncode != 0:
            if time.monotonic() > deadline:
                raise DovecotError(f"Dovecot did not pick up the new password of {address}")
            time.sleep(0.1)


def _identity() -> tuple[str, str, str, int, int]:
    """Login user, internal user and group, and the uid/gid owning the mail."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, _group_name(me.pw_gid), me.pw_uid, me.pw_gid
    # As root, use the accounts Debian's dovecot-core creates. Dovecot refuses
    # to access mail as uid 0, so mail belongs to the "dovecot" account.
    internal = pwd.getpwnam("dovecot")
    return "dovenull", internal.pw_name, _group_name(internal.pw_gid), internal.pw_uid, internal.pw_gid


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


def _require_traversable(workdir: Path) -> None:
    # Dovecot's auth and mail processes drop root, so every ancestor of the work
    # directory must be searchable by others; pytest's tmp_path (0700) is not.
    for directory in [workdir, *workdir.parents]:
        if not directory.stat().st_mode & stat.S_IXOTH:
            raise DovecotError(
                f"{directory} is not searchable by other users, so Dovecot's unprivileged "
                "processes cannot reach the work directory; use a directory under /tmp"
            )
