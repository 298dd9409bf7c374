"""A private Postfix on loopback: a real submission server in front of the tests' Dovecot.

What a mail provider's submission port does, on 127.0.0.1 only:

* STARTTLS is required (the test PKI's certificate) and AUTH is offered only after it;
* AUTH is checked by Dovecot (``smtpd_sasl_type = dovecot`` over Dovecot's auth socket),
  so the passwords are those of the IMAP accounts;
* only authenticated clients may send anything at all (no open relay, not even to local users);
* mail for the local domain goes to Dovecot over LMTP (virtual mailboxes); every recipient is
  verified with Dovecot at RCPT time (``reject_unverified_recipient``), so an unknown user is
  refused there with 550 5.1.1, not bounced later;
* mail for any other domain is refused at RCPT (its verification probe meets the ``error``
  transport): nothing ever leaves the machine, and no DNS is looked up.

It never touches /etc/postfix or the system queue: main.cf and master.cf are generated into
``workdir/etc`` and every command gets ``-c``; the queue, the data directory and the log
(``maillog_file``, written by postlogd: Postfix 3.4 or newer) live in the work directory too.
Postfix's master must run as root (it drops to ``mail_owner = postfix`` for everything else),
so unlike Dovecot this server needs a root test run, as CI has.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import smtplib
import stat
import subprocess
import time
from pathlib import Path

from .certs import TestPKI
from .managed import ManagedServer
from .net import free_port

POSTFIX = Path("/usr/sbin/postfix")
POSTCONF = Path("/usr/sbin/postconf")
MAIL_OWNER = "postfix"
MIN_VERSION = (3, 4)  # maillog_file and postlogd
_START_ATTEMPTS = 3  # retried only when the port picked as free got taken meanwhile
_COMMAND_TIMEOUT = 60.0
_FATAL = re.compile(r"postfix/[\w/-]+\[\d+\]: (fatal|panic): ")


class PostfixError(RuntimeError):
    """Postfix failed to start or to stop; the message carries its log."""


class Postfix(ManagedServer):
    """Postfix with a STARTTLS submission port on 127.0.0.1, delivering into Dovecot over LMTP."""

    host = "127.0.0.1"

    def __init__(
        self,
        workdir: Path,
        pki: TestPKI,
        *,
        sasl_socket: Path,
        lmtp_socket: Path,
        domain: str = "example.test",
        start_timeout: float = 20.0,
    ) -> None:
        self.workdir = workdir
        self.pki = pki
        self.sasl_socket = sasl_socket
        self.lmtp_socket = lmtp_socket
        self.domain = domain
        self.start_timeout = start_timeout
        self.config_dir = workdir / "etc"
        self.queue_dir = workdir / "queue"
        self.data_dir = workdir / "data"
        self.maillog_path = workdir / "maillog"
        self.submission_port = 0
        self._output_path = workdir / "postfix-commands.log"
        self._master_pid: int | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        check_installed()
        self._prepare_workdir()
        try:
            self._start_postfix()
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ fails
            raise

    def stop(self) -> None:
        """Stop Postfix and every process its master forked; safe to call more than once."""
        if self.config_dir.joinpath("main.cf").exists() and self._master_pid_from_file() is not None:
            # Stops the master, which stops its children; `postfix stop` waits for that.
            # Whatever is still there afterwards (or after a hang) is killed below.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._postfix("stop", check=False)
        pid, self._master_pid = self._master_pid, None
        if pid is not None:
            _reap_postfix_group(pid)

    # -- inspection --------------------------------------------------------

    def log_text(self) -> str:
        """The maillog and the output of the postfix commands run so far (for failure messages)."""
        parts = [p.read_text(errors="replace") for p in (self._output_path, self.maillog_path) if p.exists()]
        return "".join(parts)

    def postconf(self, name: str) -> str:
        """The value of a main.cf parameter in this instance, as Postfix sees it."""
        result = _run([str(POSTCONF), "-c", str(self.config_dir), "-h", name])
        return result.stdout.strip()

    # -- internals ---------------------------------------------------------

    def _prepare_workdir(self) -> None:
        for directory in (self.workdir, self.config_dir, self.queue_dir, self.data_dir):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)
        # Postfix creates the queue's subdirectories itself (owned by mail_owner) at start;
        # it wants the queue and config directories root-owned and the data directory its own.
        owner = pwd.getpwnam(MAIL_OWNER)
        os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        self.data_dir.chmod(0o700)
        _require_traversable(self.workdir)

    def _start_postfix(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.submission_port = free_port(self.host)
            self._write_config()
            log_offset = self._maillog_size()
            started = self._postfix("start", check=False)
            if started.returncode == 0:
                self._master_pid = self._master_pid_from_file()
                self._wait_until_ready(log_offset)
                return
            port_raced = "Address already in use" in self._maillog_since(log_offset)
            self.stop()
            if not port_raced or attempt == _START_ATTEMPTS:
                raise PostfixError(f"postfix start failed with {started.returncode}:\n{self.log_text()}")

    def _write_config(self) -> None:
        (self.config_dir / "main.cf").write_text(self._main_cf())
        (self.config_dir / "master.cf").write_text(self._master_cf())

    def _main_cf(self) -> str:
        return f"""\
# Generated by tests/servers/postfix.py for one test session.
compatibility_level = 3.6
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = {MAIL_OWNER}
setgid_group = postdrop
# Logged by postlogd into the work directory, not to syslog.
maillog_file = {self.maillog_path}
maillog_file_prefixes = {self.workdir}

inet_interfaces = {self.host}
inet_protocols = ipv4
myhostname = mail.{self.domain}
mydomain = {self.domain}
myorigin = $myhostname

# No DNS at all: no MX or A lookups on the way out, no reverse lookup of clients.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no

# The local domain's users are Dovecot's: delivered over LMTP. Nothing is delivered by
# Postfix's local(8), and nothing leaves: other domains meet the error transport.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 local delivery is disabled on this test server
virtual_mailbox_domains = {self.domain}
virtual_transport = lmtp:unix:{self.lmtp_socket}
default_transport = error:5.7.1 mail to other domains is disabled on this test server
relay_transport = $default_transport

# TLS with the test PKI; SASL through Dovecot's auth socket (no chroot, so an absolute path).
smtpd_tls_chain_files = {self.pki.key_path}, {self.pki.cert_path}
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.sasl_socket}
smtpd_sasl_authenticated_header = no

# Recipient verification (see master.cf): smtpd has a probe ask Dovecot over LMTP whether the
# user exists (RCPT only, no mail) and answers 550 for a definite no. smtpd learns the answer
# by polling the verify cache (in memory only), so a "no" must be cached; it is forgotten
# after 10 s, so a user created later in the session is soon accepted. One poll, 1 s, is what
# RCPT to a not yet verified address costs; 10 polls bound a slow probe (then 450 4.1.1).
unverified_recipient_reject_code = 550
address_verify_map =
address_verify_negative_refresh_time = 5s
address_verify_negative_expire_time = 10s
address_verify_poll_delay = 1s
address_verify_poll_count = 10
"""

    def _master_cf(self) -> str:
        # Only the submission port listens on the network; the rest are the internal services
        # a mail system needs (chroot n everywhere: the work directory is no chroot jail).
        options = (
            "syslog_name=postfix/submission",
            "smtpd_tls_security_level=encrypt",
            "smtpd_sasl_auth_enable=yes",
            "smtpd_tls_auth_only=yes",
            # reject_unauth_destination first, so that refusing another domain reads
            # "Relay access denied"; the final reject refuses even local recipients: a
            # submission port is for authenticated users only, it is no MX.
            "smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination,reject",
            "smtpd_recipient_restrictions=reject_unverified_recipient",
        )
        lines = [f"{self.host}:{self.submission_port} inet n - n - - smtpd"]
        lines += [f"  -o {option}" for option in options]
        lines += [
            "pickup    unix  n  -  n  60     1  pickup",
            "cleanup   unix  n  -  n  -      0  cleanup",
            "qmgr      unix  n  -  n  300    1  qmgr",
            "tlsmgr    unix  -  -  n  1000?  1  tlsmgr",
            "rewrite   unix  -  -  n  -      -  trivial-rewrite",
            "bounce    unix  -  -  n  -      0  bounce",
            "defer     unix  -  -  n  -      0  bounce",
            "trace     unix  -  -  n  -      0  bounce",
            "verify    unix  -  -  n  -      1  verify",
            "flush     unix  n  -  n  1000?  0  flush",
            "proxymap  unix  -  -  n  -      -  proxymap",
            "smtp      unix  -  -  n  -      -  smtp",
            "relay     unix  -  -  n  -      -  smtp",
            "error     unix  -  -  n  -      -  error",
            "retry     unix  -  -  n  -      -  error",
            "discard   unix  -  -  n  -      -  discard",
            "lmtp      unix  -  -  n  -      -  lmtp",
            "anvil     unix  -  -  n  -      1  anvil",
            "scache    unix  -  -  n  -      1  scache",
            "postlog   unix-dgram n  -  n  -  1  postlogd",
        ]
        return "# Generated by tests/servers/postfix.py for one test session.\n" + "\n".join(lines) + "\n"

    def _postfix(self, command: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        # Output to a file, never a pipe: the master inherits it and would keep a pipe open.
        with self._output_path.open("a") as output:
            output.write(f"$ postfix -c {self.config_dir} {command}\n")
            output.flush()
            result = subprocess.run(
                [str(POSTFIX), "-c", str(self.config_dir), command],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=_COMMAND_TIMEOUT,
                check=False,
                text=True,
            )
        if check and result.returncode != 0:
            raise PostfixError(f"postfix {command} failed with {result.returncode}:\n{self.log_text()}")
        return result

    def _maillog_size(self) -> int:
        return self.maillog_path.stat().st_size if self.maillog_path.exists() else 0

    def _maillog_since(self, offset: int) -> str:
        if not self.maillog_path.exists():
            return ""
        with self.maillog_path.open("rb") as maillog:
            maillog.seek(offset)
            return maillog.read().decode(errors="replace")

    def _master_pid_from_file(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_until_ready(self, log_offset: int) -> None:
        # `postfix start` returns once the master listens. A client that gets through STARTTLS
        # and is then offered AUTH proves that smtpd, the certificate and Dovecot's auth socket
        # all work. A daemon's fatal error ends the wait at once: the master would only retry
        # it after a minute's throttling.
        deadline = time.monotonic() + self.start_timeout
        problem = ""
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP(self.host, self.submission_port, timeout=2) as client:
                    client.starttls(context=self.pki.client_ssl_context())
                    client.ehlo()
                    if client.has_extn("auth"):
                        return
                    problem = "no AUTH offered after STARTTLS"
            except (OSError, smtplib.SMTPException) as error:
                problem = f"{type(error).__name__}: {error}"
            if _FATAL.search(self._maillog_since(log_offset)):
                break
            time.sleep(0.1)
        else:
            problem = f"not ready within {self.start_timeout} s; last: {problem}"
        raise PostfixError(f"Postfix failed to start ({problem}):\n{self.log_text()}")


def check_installed() -> None:
    """Raise PostfixError, saying what to do, unless a usable Postfix can be started."""
    if not POSTFIX.exists() or not POSTCONF.exists():
        raise PostfixError(f"{POSTFIX} not found: run `make test`, which installs postfix")
    version = mail_version()
    if version < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        raise PostfixError(f"Postfix {'.'.join(map(str, version))} is too old: maillog_file needs {wanted}")
    if os.geteuid() != 0:
        raise PostfixError("Postfix's master runs as root only: run the Postfix tests as root, as CI does")
    try:
        pwd.getpwnam(MAIL_OWNER)
    except KeyError:
        raise PostfixError(f"no {MAIL_OWNER!r} account: run `make test`, which installs postfix") from None


def mail_version() -> tuple[int, ...]:
    # -d: the compiled-in value, which needs no main.cf (the package may come without one).
    output = _run([str(POSTCONF), "-d", "-h", "mail_version"]).stdout
    match = re.match(r"(\d+)\.(\d+)", output.strip())
    if match is None:
        raise PostfixError(f"cannot tell the Postfix version from {output!r}")
    return int(match.group(1)), int(match.group(2))


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, check=False)
    if result.returncode != 0:
        raise PostfixError(f"{' '.join(command)} failed with {result.returncode}: {result.stderr.strip()}")
    return result


def _require_traversable(workdir: Path) -> None:
    # Postfix's daemons run as mail_owner; every ancestor must be searchable by others.
    for directory in [workdir, *workdir.parents]:
        if not directory.stat().st_mode & stat.S_IXOTH:
            raise PostfixError(
                f"{directory} is not searchable by other users, so Postfix's unprivileged "
                "processes cannot reach the work directory; use a directory under /tmp"
            )


def _group_members(pgid: int) -> list[int]:
    """Processes in process group ``pgid`` that run a Postfix daemon (master included)."""
    daemon_directory = "/usr/lib/postfix/sbin/"
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may contain spaces and parentheses; fields follow the last ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            executable = os.readlink(entry / "exe")
        except (OSError, IndexError):
            continue  # gone meanwhile, or a kernel thread
        if int(fields[2]) == pgid and executable.startswith(daemon_directory):
            members.append(int(entry.name))
    return members


def _reap_postfix_group(master_pid: int, timeout: float = 10.0) -> None:
    """Wait for the master's children to follow it out, then kill whatever is left.

    The master is not our child (it daemonizes), so its process group is matched by id and
    by executable: only Postfix daemons of this instance are ever signalled.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_members(master_pid):
            return
        time.sleep(0.1)
    for pid in _group_members(master_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
