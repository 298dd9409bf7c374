"""The mailbox bench's setting: the private Dovecot, gunicorn, the signed-in user, and changes by another client.

:class:`MailboxSetup` is the plumbing of ``bench/mailbox.py``'s :class:`Bench`, which adds the phases.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import pwd
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import BIN, BenchError
from bench.mailbox_child import ADDRESS, FETCH_CHUNK, PASSWORD
from bench.mailbox_corpus import Corpus, fill_maildir

SCRIPT = Path(__file__).resolve().with_name("mailbox.py")  # runs the children: mailbox.py --child SPEC


class MailboxSetup(harness.Bench):
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        from tests.servers.certs import make_test_pki

        super().__init__(args, tmp)
        self.pki = make_test_pki(tmp / "pki")
        self.dovecot: Any = None
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.cookie = ""
        self.account: Any = None
        self.drafts_id = 0
        self.corpus: Corpus | None = None
        self.rng = random.Random(20260101)

    def check_processes(self) -> None:
        if self.gunicorn is not None and self.gunicorn.poll() is not None:
            raise BenchError("gunicorn exited")

    def failure_logs(self) -> list[Path]:
        return [self.tmp / "gunicorn.log"]

    def child(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A floor or a sync in a fresh process (see bench/mailbox_child.py); returns its answer."""
        return harness.run_child([sys.executable, str(SCRIPT), "--child"], spec, self.env, self.left())

    def get(self, path: str) -> tuple[float, bytes]:
        """One GET with the bench session, on a fresh connection (gunicorn's sync workers close each)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=min(300, self.left()))
        started = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": self.cookie, "Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        connection.close()
        if response.status != 200:
            raise BenchError(f"GET {path}: {response.status} {response.getheader('Location', '')} {body[:300]!r}")
        return elapsed * 1000, body

    def prepare_environment(self, settings: str, database_name: str) -> str:
        """The environment of this process, of manage.py, gunicorn and the children; returns the database."""
        env = harness.settings_environment(settings, self.tmp, WEBMAIL_STATIC_ROOT=str(self.tmp / "static"))
        env.pop("REDIS_URL", None)  # the published sync tasks go to a filesystem broker nobody reads
        database = harness.use_postgres(env, database_name)
        self.use_environment(env)
        self.manage("migrate", "collectstatic")
        return database

    # -- servers -----------------------------------------------------------------------------

    def start_dovecot(self) -> None:
        from tests.servers.dovecot import Dovecot

        workdir = Path(tempfile.mkdtemp(prefix="webmail-bench-dovecot-", dir="/tmp"))
        workdir.chmod(0o755)
        self.dovecot = Dovecot(workdir, self.pki, settings=dict(self.args.dovecot_setting))
        self.dovecot.start()
        self.dovecot.add_user(ADDRESS, PASSWORD)
        self.dovecot.login(ADDRESS).logout()  # Dovecot creates the maildir and the special folders

    def stop_dovecot(self) -> None:
        if self.dovecot is not None:
            self.dovecot.stop()
            shutil.rmtree(self.dovecot.workdir, ignore_errors=True)
            self.dovecot = None

    def dovecot_version(self) -> str:
        return subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[0]

    def start_gunicorn(self) -> None:
        from tests.servers.net import free_port

        self.port = free_port()
        command = [str(BIN / "gunicorn"), "webmail.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2"]
        command += ["--timeout", "300", "--log-level", "warning"]
        log = self.tmp / "gunicorn.log"
        self.gunicorn = harness.start_process(command, self.env, log)
        self.wait_ready(self.healthy, 30, lambda: f"gunicorn did not answer within 30 s:\n{log.read_text()}", 0.2)

    def healthy(self) -> bool:
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            return connection.getresponse().status == 200
        return False

    def stop_gunicorn(self) -> None:
        if self.gunicorn is not None:
            harness.stop_processes([self.gunicorn], grace=15)
            self.gunicorn = None

    def gunicorn_workers(self) -> list[int]:
        assert self.gunicorn is not None
        return harness.children(self.gunicorn.pid)

    def cleanup(self) -> None:
        self.stop_gunicorn()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.stop_dovecot()
        with contextlib.suppress(Exception):
            harness.drop_postgres(self.env)

    # -- the user and their mail -------------------------------------------------------------

    def create_user(self) -> None:
        """The user, a confirmed TOTP device, their account on the Dovecot, and a verified session."""
        from accounts.devices import AuthenticatorDevice, new_totp_key
        from accounts.models import MailAccount, Security, User

        user = User.objects.create_user(ADDRESS, None, full_name="Bench Reader")
        device = AuthenticatorDevice.for_key(user, new_totp_key(), name="Authenticator app", confirmed=True)
        device.save()
        account = MailAccount(user=user, imap_host="127.0.0.1", imap_port=self.dovecot.imaps_port)
        account.imap_security, account.ca_certificates = Security.TLS, self.pki.ca_pem
        account.set_secret("imap_password", PASSWORD)
        account.save()
        self.account = account
        self.cookie = self.signed_in_cookie(user, device)

    def signed_in_cookie(self, user: Any, device: Any) -> str:
        """A session in the database, signed in with both factors, as the Cookie header's value."""
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django_otp import DEVICE_ID_SESSION_KEY

        session = SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def folder_id(self, name: str) -> int:
        from webmail.mailbox import store
        from webmail.mailbox.models import Folder

        store.refresh_folder_list(self.account)
        return Folder.objects.get(account=self.account, name=name).pk

    def imap_client(self, timeout: float) -> Any:
        """A plain imapclient connection to the Dovecot (IMAPS), not logged in."""
        from imapclient import IMAPClient

        context = ssl.create_default_context(cafile=str(self.pki.ca_path))
        return IMAPClient("127.0.0.1", self.dovecot.imaps_port, ssl=True, ssl_context=context, timeout=timeout)

    def fill(self, name: str, n: int) -> None:
        """The folder's maildir, then one untimed pass over it so Dovecot's index and cache are built."""
        mail_user = pwd.getpwnam("dovecot")
        home = self.dovecot.workdir / "mail" / ADDRESS / "Maildir"
        started = time.perf_counter()
        corpus = Corpus(random.Random(n), name.lower())
        size, _newest = fill_maildir(home / name, n, corpus, self.left)
        subprocess.run(["chown", "-R", f"{mail_user.pw_uid}:{mail_user.pw_gid}", str(home / name)], check=True)
        self.corpus = corpus
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        self.index(name, n)
        self.row(
            f"[{n}] setup: maildir written / Dovecot first scan+index",
            f"{size / n / 1024:.1f} KiB avg, {size / 2**20:.0f} MiB in {wrote:.1f} s / "
            f"{time.perf_counter() - started:.1f} s",
        )

    def index(self, name: str, n: int) -> None:
        """Dovecot's first pass over the folder: SELECT and a FETCH of the app's items for every message."""
        from webmail.mailbox.sync import ENVELOPE_ITEMS

        with self.imap_client(timeout=300) as client:
            client.login(ADDRESS, PASSWORD)
            exists = client.select_folder(name, readonly=True)[b"EXISTS"]
            # As a CONDSTORE client (Thunderbird, say) leaves it: Dovecot keeps modseqs for this mailbox from
            # now on. Without it the app's first SELECT gets no HIGHESTMODSEQ and its next two syncs
            # re-fetch and re-write the flags of every message (see the report).
            client.folder_status(name, [b"HIGHESTMODSEQ"])
            if exists != n:
                raise BenchError(f"Dovecot sees {exists} messages in {name}, not {n}")
            client.use_uid = False
            for low in range(1, n + 1, FETCH_CHUNK):
                client.fetch(list(range(low, min(low + FETCH_CHUNK, n + 1))), ENVELOPE_ITEMS)
                self.left()

    def other_client_changes(self, name: str, n: int, serial: int) -> tuple[list[int], list[int]]:
        """10 APPENDs and \\Flagged toggled on 100 messages, as another mail client would; returns UIDs."""
        now = datetime.now(UTC).replace(microsecond=0)
        with self.imap_client(timeout=60) as client:
            client.login(ADDRESS, PASSWORD)
            assert self.corpus is not None
            for i in range(10):
                raw = self.corpus.message(serial + i, now + timedelta(seconds=i)).replace(b"\n", b"\r\n")
                client.append(name, raw)
            client.select_folder(name)
            uids = sorted(client.search(["ALL"]))
            picked = sorted(self.rng.sample(uids[:n], 100))
            flagged = [uid for uid, data in client.fetch(picked, [b"FLAGS"]).items() if b"\\Flagged" in data[b"FLAGS"]]
            unflagged = [uid for uid in picked if uid not in flagged]
            if flagged:
                client.remove_flags(flagged, [b"\\Flagged"])
            client.add_flags(unflagged, [b"\\Flagged"])
        return flagged, unflagged
