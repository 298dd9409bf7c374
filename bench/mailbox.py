"""Mailbox benchmark: the envelope cache against a private Dovecot, one folder per size.

All on 127.0.0.1, all throwaway: tests/servers' Dovecot in a work directory under /tmp, folders written
straight into its maildir (one folder per size, filled with generated but realistic mail), a temporary
SQLite file, or the PostgreSQL database ``webmail_bench_mailbox`` (dropped and re-created) when
DATABASE_URL is set, and gunicorn (2 sync workers) spoken to over HTTP with a session made in the database.
Sync work runs in a child process of this script calling webmail's sync functions (no Celery worker: the
tasks the view publishes land in a filesystem broker that nobody reads), so its peak RSS is its own.

Per size:
1. cold first page: GET /mail/<id>/ of a folder never synced (head sync of the newest 50, then publish);
2. full initial sync: webmail.sync.sync_folder from an empty cache until complete;
3. incremental sync after another IMAP client appended 10 messages and changed flags on 100;
4. warm list: 200 sequential GETs of /mail/<id>/ and ?page=N, cache complete (and, for scale, 50 of an empty folder);
5. peak RSS (VmHWM) of the gunicorn workers and of the sync process;
floors: imapclient fetching ENVELOPE FLAGS RFC822.SIZE for the newest 50 and for the whole folder.

    .venv/bin/python bench/mailbox.py [--sizes 10000,100000] [--dovecot-setting NAME=VALUE] [--timeout S]
                                      [--profile] [--profile-dir DIR]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import http.client
import io
import json
import math
import os
import platform
import pstats
import pwd
import random
import re
import resource
import secrets
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DATABASE", "webmail_bench_mailbox")  # dropped and re-created
ADDRESS, PASSWORD = "bench@example.test", "bench-imap-password-not-a-secret"
BIN = ROOT / ".venv" / "bin"
# Production settings (WEBMAIL_DEBUG=0, collected static files), minus what needs HTTPS: the
# bench speaks plain HTTP to gunicorn where a deployment has a TLS proxy in front.
ENV = (
    "DJANGO_SETTINGS_MODULE=webmail.settings WEBMAIL_DEBUG=0 ALLOWED_HOSTS=127.0.0.1 WEBMAIL_LOG_LEVEL=WARNING "
    "WEBMAIL_SECURE_COOKIES=0 WEBMAIL_SSL_REDIRECT=0"
)
FLOOR_ITEMS = [b"ENVELOPE", b"FLAGS", b"RFC822.SIZE"]
FETCH_CHUNK = 2000  # what webmail.sync fetches per command, used for the floors too
WARM_REQUESTS = 200
EMPTY_REQUESTS = 50
TARGETS = {"cold": 300.0, "p95": 20.0, "ratio": 1.5, "incremental": 250.0}  # ms, ms, x, ms


class BenchError(Exception):
    """A phase failed or time ran out; the figures gathered so far are still printed."""


# -- generated mail ---------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


FIRST = words("Anna Ben Carla David Emma Farid Greta Hugo Ines Jonas Kira Lars Mia Noah Olga Paul Rosa Sven")
LAST = words("Berger Costa Dubois Eriksen Fischer Garcia Hansen Ivanova Jensen Keller Larsen Moreau Novak")
UNICODE_NAMES = ["José Müller", "Zoë Ødegaard", "Łukasz Wąsik", "Renée Fåhræus", "李雷", "Ελένη Παππά", "Jürgen Groß"]
DOMAINS = ["example.test", "corp.example", "mail.example.org", "lists.example.net", "partner.example"]
TOPICS = [
    "quarterly report",
    "budget review",
    "supplier schedule",
    "release planning",
    "invoice {n}",
    "contract renewal",
    "team offsite",
    "server maintenance window",
    "customer feedback",
    "hiring update",
    "security audit findings",
    "travel expenses",
]
UNICODE_TOPICS = ["Café in Zürich", "Résumé für Malmö", "Préavis de maintenance", "Встреча в пятницу", "会议记录"]
WORDS = words(
    "the team agreed that our report and budget review should move to next week because several customers asked "
    "about delivery dates invoices contracts and the supplier schedule please find the updated numbers below and "
    "send me your comments before Thursday so we can close this item in the meeting"
)


def encoded(text: str, rng: random.Random) -> str:
    """``text`` as an RFC 2047 encoded word when it is not ASCII (B or Q, UTF-8 or Latin-1 when it fits)."""
    if text.isascii():
        return text
    charset = "iso-8859-1" if rng.random() < 0.3 and all(ord(ch) < 256 for ch in text) else "utf-8"
    return Header(text, charset).encode()


@dataclass
class Corpus:
    """Messages of one folder, oldest first: threads with References, a few attachments, 2-50 KB."""

    rng: random.Random
    domain_tag: str
    senders: list[tuple[str, str]] = field(default_factory=list)
    threads: list[tuple[str, list[str]]] = field(default_factory=list)  # (subject, message ids)
    filler: str = ""
    blob: bytes = b""

    def __post_init__(self) -> None:
        rng = self.rng
        for i in range(600):
            name = rng.choice(UNICODE_NAMES) if i % 12 == 0 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            local = name.split()[0].lower() if name.isascii() else f"user{i}"
            self.senders.append((name if i % 9 else "", f"{local}.{i}@{rng.choice(DOMAINS)}"))
        lines = []
        for _ in range(2500):
            lines.append(" ".join(rng.choices(WORDS, k=rng.randint(8, 14))).capitalize() + ".")
        self.filler = "\n".join(lines)
        self.blob = base64.encodebytes(rng.randbytes(60_000))

    def message(self, n: int, when: datetime) -> bytes:
        rng = self.rng
        name, address = rng.choice(self.senders)
        sender = f"{encoded(name, rng)} <{address}>" if name else address
        message_id = f"<{n}.{self.domain_tag}@{address.split('@')[1]}>"
        headers = [f"From: {sender}", f"Date: {format_datetime(when)}", f"Message-ID: {message_id}"]
        recipients = ["Bench Reader <bench@example.test>"] + [
            f"{a}" for _name, a in rng.sample(self.senders, rng.choice((0, 0, 0, 1, 2, 4)))
        ]
        headers.append("To: " + ",\n ".join(recipients))
        if rng.random() < 0.15:
            headers.append("Cc: " + ", ".join(a for _name, a in rng.sample(self.senders, 2)))
        if self.threads and rng.random() < 0.4:  # a reply in a recent conversation
            index = len(self.threads) - 1 - min(int(rng.expovariate(1 / 20)), len(self.threads) - 1)
            subject, ids = self.threads[index]
            headers.append(f"Subject: {encoded('Re: ' + subject, rng)}")
            headers.append(f"In-Reply-To: {ids[-1]}")
            headers.append("References: " + "\n ".join([ids[0], *ids[-9:]][-10:]))
            ids.append(message_id)
        else:
            topic = rng.choice(UNICODE_TOPICS) if rng.random() < 0.12 else rng.choice(TOPICS).format(n=n)
            subject = f"{topic.capitalize() if topic.isascii() else topic} ({n % 997})"
            headers.append(f"Subject: {encoded(subject, rng)}")
            self.threads.append((subject, [message_id]))
            del self.threads[:-300]
        headers.append("MIME-Version: 1.0")
        target = int(math.exp(rng.uniform(math.log(2048), math.log(50 * 1024))))
        start = rng.randrange(0, len(self.filler) - 60_000)
        if rng.random() < 0.05:  # an attachment
            boundary = f"=_bench_{n}"
            attachment = self.blob[: max(1024, target - 1500)]
            body_text = self.filler[start : start + 1000]
            headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
            body = (
                f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                f'{body_text}\n--{boundary}\nContent-Type: application/pdf; name="report-{n}.pdf"\n'
                f'Content-Disposition: attachment; filename="report-{n}.pdf"\nContent-Transfer-Encoding: base64\n\n'
                f"{attachment.decode('ascii')}\n--{boundary}--\n"
            )
        else:
            headers.append("Content-Type: text/plain; charset=utf-8")
            headers.append("Content-Transfer-Encoding: 8bit")
            body = self.filler[start : start + max(200, target - 600)] + "\n"
        return ("\n".join(headers) + "\n\n" + body).encode()


def fill_maildir(folder_dir: Path, n: int, corpus: Corpus, check: Any) -> tuple[int, datetime]:
    """Write ``n`` messages into a new maildir folder, oldest first; returns (bytes, newest date).

    File names carry S= and W= (Dovecot need not stat or read a file for RFC822.SIZE) and a time that
    grows with the message, which is the order Dovecot assigns UIDs in; mtime is the INTERNALDATE."""
    for sub in ("cur", "new", "tmp"):
        (folder_dir / sub).mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    step = timedelta(days=3 * 365) / n
    base = now - step * n
    total = 0
    rng = corpus.rng
    zones = [timezone(timedelta(hours=h)) for h in (0, 1, 2, -5, -8, 9, 5.5)]
    for i in range(n):
        when = (base + step * (i + 1)).astimezone(rng.choice(zones)).replace(microsecond=0)
        data = corpus.message(i, when)
        seen = i < n - 300 or rng.random() < 0.5
        flags = ("F" if rng.random() < 0.03 else "") + ("R" if rng.random() < 0.1 else "") + ("S" if seen else "")
        stamp = when.timestamp()
        virtual = len(data) + data.count(b"\n")  # RFC822.SIZE counts CRLF line ends
        name = f"{int(stamp)}.M{i % 1_000_000}P{i}.bench,S={len(data)},W={virtual}:2,{flags}"
        path = folder_dir / "cur" / name
        path.write_bytes(data)
        os.utime(path, (stamp, stamp))
        total += len(data)
        if i % 2000 == 0:
            check()
    return total, base + step * n


# -- the child process: floors and syncs ------------------------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def profile_text(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def child_floor(spec: dict) -> dict:
    """imapclient alone: connect, log in, SELECT, then fetch by sequence number in chunks (or
    nothing: "examine"). The TLS context is made before the clock starts, as a long-lived
    process has it (the app keeps one per process)."""
    from imapclient import IMAPClient

    context = ssl.create_default_context(cafile=spec["ca"])
    started = time.perf_counter()
    with IMAPClient("127.0.0.1", spec["port"], ssl=True, ssl_context=context, timeout=120) as client:
        client.login(ADDRESS, PASSWORD)
        select_start = time.perf_counter()
        exists = client.select_folder(spec["folder"], readonly=True)[b"EXISTS"]
        fetch_start = time.perf_counter()
        if spec["what"] == "examine":
            return {"total": fetch_start - started, "select": fetch_start - select_start}
        first = 1 if spec["what"] == "full" else max(1, exists - 49)
        client.use_uid = False
        count = 0
        for low in range(first, exists + 1, FETCH_CHUNK):
            items = [item.encode() for item in spec["items"]]
            count += len(client.fetch(list(range(low, min(low + FETCH_CHUNK, exists + 1))), items))
        done = time.perf_counter()
    return {"total": done - started, "fetch": done - fetch_start, "count": count, "rss": peak_rss_mib()}


def reset_folder(folder_id: int) -> None:
    """Back to "never synced", its cached rows gone (outside any timing)."""
    from webmail.models import Folder, MessageSummary

    MessageSummary.objects.filter(folder_id=folder_id).delete()
    Folder.objects.filter(pk=folder_id).update(
        uidvalidity=None, uidnext=None, highestmodseq=None, backfill_below=None, synced_at=None, total=0, unread=0
    )


def child_sync(spec: dict) -> dict:
    """webmail's own sync of one folder, from an empty cache (reset) or incrementally, timed (and profiled)."""
    import django

    django.setup()
    from webmail import sync
    from webmail.models import Folder
    from webmail.protocol import imap

    if spec.get("reset"):
        reset_folder(spec["folder_id"])
    folder = Folder.objects.select_related("account").get(pk=spec["folder_id"])
    # As a worker that has synced before: its TLS context and database connection are made. A
    # login selects no folder, so this leaves the server's work on the folder to the timed run.
    with imap.session(folder.account):
        pass
    runs = []
    profiler = cProfile.Profile() if spec.get("profile") else None
    for _ in range(spec.get("runs", 1)):
        started, cpu = time.perf_counter(), time.process_time()
        with imap.session(folder.account) as client:
            logged_in = time.perf_counter()
            if profiler:
                profiler.enable()
            folder = sync.sync_folder(client, folder, backfill_chunks=None)
            if profiler:
                profiler.disable()
            synced = time.perf_counter()
        runs.append(
            {"total": time.perf_counter() - started, "sync": synced - logged_in, "cpu": time.process_time() - cpu}
        )
    result: dict[str, Any] = {"runs": runs, "rss": peak_rss_mib(), "total_rows": folder.messages.count()}
    result["complete"] = folder.is_complete
    if profiler:
        profiler.dump_stats(spec["profile"])
        result["profile"] = profile_text(profiler, 25)
    return result


def child_main(spec: dict) -> int:
    result = child_floor(spec) if spec["op"] == "floor" else child_sync(spec)
    print("RESULT " + json.dumps(result))
    return 0


# -- the parent ---------------------------------------------------------------------------------


def admin_sql(url: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database: the bench database is made and dropped from there."""
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def quantiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return q[49], q[94]


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def vm_hwm_mib(pid: int) -> float:
    with contextlib.suppress(OSError, StopIteration, ValueError):
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("VmHWM")).split()[1]) / 1024
    return 0.0


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        from tests.servers.certs import make_test_pki

        self.args, self.tmp, self.end = args, tmp, time.monotonic() + args.timeout
        self.env: dict[str, str] = {}
        self.header: list[str] = []
        self.rows: list[tuple[str, str]] = []
        self.pki = make_test_pki(tmp / "pki")
        self.dovecot: Any = None
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.cookie = ""
        self.account: Any = None
        self.drafts_id = 0
        self.corpus: Corpus | None = None
        self.rng = random.Random(20260101)

    # -- plumbing ----------------------------------------------------------------------------

    def left(self) -> float:
        if (left := self.end - time.monotonic()) <= 0:
            raise BenchError(f"overall timeout ({self.args.timeout:.0f} s) reached")
        if self.gunicorn is not None and self.gunicorn.poll() is not None:
            raise BenchError("gunicorn exited")
        return left

    def row(self, label: str, value: str) -> None:
        self.rows.append((label, value))
        print(f"  {label}: {value}", flush=True)

    def child(self, spec: dict) -> dict:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
        try:
            done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, timeout=self.left())
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"overall timeout reached during {spec['op']}") from exc
        lines = [line for line in done.stdout.decode().splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            raise BenchError(f"child {spec['op']} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
        return json.loads(lines[-1][len("RESULT ") :])

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

    def prepare_environment(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}  # settings.py refuses X and X_FILE
        env |= dict(pair.split("=") for pair in ENV.split()) | {
            "WEBMAIL_VAR_DIR": str(self.tmp / "var"),
            "WEBMAIL_STATIC_ROOT": str(self.tmp / "static"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "WEBMAIL_SECRET_KEYS": base64.b64encode(os.urandom(32)).decode(),
        }
        env.pop("REDIS_URL", None)  # the published sync tasks go to a filesystem broker nobody reads
        database = "SQLite, temporary file"
        if url := env.get("DATABASE_URL"):
            parts = urlsplit(url)
            if parts.scheme not in ("postgres", "postgresql"):
                raise BenchError("DATABASE_URL must be a PostgreSQL URL")
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))  # never another database
            admin_sql(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
            database = f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{BENCH_DB}"
        self.env = env
        os.environ.clear()
        os.environ.update(env)
        for step in ("migrate", "collectstatic"):
            command = [sys.executable, "manage.py", step, "--noinput"]
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=min(180, self.left()))
            if done.returncode:
                raise BenchError(f"{step} failed:\n{done.stderr.decode()[-2000:]}")
        return database

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

    def start_gunicorn(self) -> None:
        from tests.servers.net import free_port

        self.port = free_port()
        command = [str(BIN / "gunicorn"), "webmail.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2"]
        command += ["--timeout", "300", "--log-level", "warning"]
        with open(self.tmp / "gunicorn.log", "wb") as log:
            self.gunicorn = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200:
                    return
            if self.left() and time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer within 30 s:\n{(self.tmp / 'gunicorn.log').read_text()}")
            time.sleep(0.2)

    def stop_gunicorn(self) -> None:
        if self.gunicorn is None:
            return
        if self.gunicorn.poll() is None:
            self.gunicorn.terminate()
            try:
                self.gunicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.gunicorn.pid, signal.SIGKILL)  # the group of the master we started
                self.gunicorn.wait(timeout=10)
        self.gunicorn = None

    def gunicorn_workers(self) -> list[int]:
        assert self.gunicorn is not None
        pids: list[int] = []
        for children in Path(f"/proc/{self.gunicorn.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(c) for c in children.read_text().split()]
        return pids

    def create_user(self) -> None:
        """The user, a confirmed TOTP device, their account on the Dovecot, and a verified session."""
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django_otp import DEVICE_ID_SESSION_KEY

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
        session = SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def folder_id(self, name: str) -> int:
        from webmail import mailbox
        from webmail.models import Folder

        mailbox.refresh_folder_list(self.account)
        return Folder.objects.get(account=self.account, name=name).pk

    # -- phases ------------------------------------------------------------------------------

    def fill(self, name: str, n: int) -> None:
        """The folder's maildir, then one untimed pass over it so Dovecot's index and cache are built."""
        from imapclient import IMAPClient

        mail_user = pwd.getpwnam("dovecot")
        home = self.dovecot.workdir / "mail" / ADDRESS / "Maildir"
        started = time.perf_counter()
        corpus = Corpus(random.Random(n), name.lower())
        size, _newest = fill_maildir(home / name, n, corpus, self.left)
        subprocess.run(["chown", "-R", f"{mail_user.pw_uid}:{mail_user.pw_gid}", str(home / name)], check=True)
        self.corpus = corpus
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        context = ssl.create_default_context(cafile=str(self.pki.ca_path))
        with IMAPClient("127.0.0.1", self.dovecot.imaps_port, ssl=True, ssl_context=context, timeout=300) as client:
            client.login(ADDRESS, PASSWORD)
            exists = client.select_folder(name, readonly=True)[b"EXISTS"]
            # As a CONDSTORE client (Thunderbird, say) leaves it: Dovecot keeps modseqs for this mailbox from
            # now on. Without it the app's first SELECT gets no HIGHESTMODSEQ and its next two syncs
            # re-fetch and re-write the flags of every message (see the report).
            client.folder_status(name, [b"HIGHESTMODSEQ"])
            if exists != n:
                raise BenchError(f"Dovecot sees {exists} messages in {name}, not {n}")
            from webmail.sync import ENVELOPE_ITEMS

            client.use_uid = False
            for low in range(1, n + 1, FETCH_CHUNK):
                client.fetch(list(range(low, min(low + FETCH_CHUNK, n + 1))), ENVELOPE_ITEMS)
                self.left()
        self.row(
            f"[{n}] setup: maildir written / Dovecot first scan+index",
            f"{size / n / 1024:.1f} KiB avg, {size / 2**20:.0f} MiB in {wrote:.1f} s / "
            f"{time.perf_counter() - started:.1f} s",
        )

    def other_client_changes(self, name: str, n: int, serial: int) -> tuple[list[int], list[int]]:
        """10 APPENDs and \\Flagged toggled on 100 messages, as another mail client would; returns UIDs."""
        from imapclient import IMAPClient

        context = ssl.create_default_context(cafile=str(self.pki.ca_path))
        now = datetime.now(UTC).replace(microsecond=0)
        with IMAPClient("127.0.0.1", self.dovecot.imaps_port, ssl=True, ssl_context=context, timeout=60) as client:
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

    def check_incremental(self, folder_id: int, n: int, was_flagged: list[int], now_flagged: list[int]) -> None:
        from webmail.models import MessageSummary

        rows = MessageSummary.objects.filter(folder_id=folder_id)
        if rows.count() != n + 10:
            raise BenchError(f"after the incremental sync the cache has {rows.count()} rows, not {n + 10}")
        wrong = rows.filter(uid__in=was_flagged, flagged=True).count()
        wrong += rows.filter(uid__in=now_flagged, flagged=False).count()
        if wrong:
            raise BenchError(f"after the incremental sync {wrong} of 100 changed flags are stale in the cache")

    def warm_pages(self, folder_id: int, n: int) -> list[tuple[str, str]]:
        """The request mix: a third page 1 (bare URL), the rest ?page=N shallow, anywhere, and the last."""
        pages = math.ceil(n / 50)
        base = f"/mail/{folder_id}/"
        mix: list[tuple[str, str]] = []
        for i in range(WARM_REQUESTS):
            kind = ("first", "shallow", "any", "any", "last", "first")[i % 6]
            if kind == "first":
                mix.append(("first", base))
                continue
            page = {"shallow": self.rng.randint(2, 10), "any": self.rng.randint(1, pages)}.get(kind, pages)
            if kind == "any":
                kind = "deep" if page > pages // 2 else "shallow"
            mix.append((kind, f"{base}?page={page}"))
        return mix

    def measure_size(self, n: int) -> None:
        name = f"Bench{n}"
        self.fill(name, n)
        ca = str(self.pki.ca_path)
        port = self.dovecot.imaps_port
        floor = {"op": "floor", "ca": ca, "port": port, "folder": name, "items": [i.decode() for i in FLOOR_ITEMS]}
        head = self.child(floor | {"what": "head"})
        self.row(
            f"[{n}] FLOOR imapclient newest 50 (ENVELOPE FLAGS RFC822.SIZE)",
            f"{head['fetch'] * 1000:.1f} ms fetch; {head['total'] * 1000:.1f} ms with connect+TLS+login+SELECT",
        )
        full = self.child(floor | {"what": "full"})
        self.row(
            f"[{n}] FLOOR imapclient whole folder (same items, {FETCH_CHUNK}/command)",
            f"{full['fetch']:.2f} s ({full['count']} messages; peak RSS {full['rss']:.0f} MiB)",
        )
        from webmail.sync import ENVELOPE_ITEMS

        same = self.child(floor | {"what": "full", "items": [i.decode() for i in ENVELOPE_ITEMS]})
        self.row(
            f"[{n}]   imapclient whole folder, the app's items (+UID, REFERENCES, CONTENT-TYPE)",
            f"{same['fetch']:.2f} s",
        )

        folder_id = self.folder_id(name)
        cold_ms, body = self.get(f"/mail/{folder_id}/")
        shown = body.count(b'name="uid"')
        self.row(
            f"[{n}] COLD first page GET /mail/<id>/ (never synced)",
            f"{cold_ms:.0f} ms, {shown} rows shown  "
            f"[target <= {TARGETS['cold']:.0f} ms: {verdict(cold_ms, TARGETS['cold'])}]",
        )
        if shown != 50:
            raise BenchError(f"the cold first page showed {shown} rows, not 50")

        sync = self.child({"op": "sync", "folder_id": folder_id, "reset": True})
        run = sync["runs"][0]
        ratio = run["total"] / full["fetch"]
        if not sync["complete"] or sync["total_rows"] != n:
            raise BenchError(f"full sync left {sync['total_rows']} rows, complete={sync['complete']}")
        self.row(
            f"[{n}] FULL initial sync (empty cache -> complete)",
            f"{run['total']:.2f} s ({run['sync']:.2f} s in sync_folder, CPU {run['cpu']:.2f} s); "
            f"{n / run['total']:.0f} msg/s; peak RSS {sync['rss']:.0f} MiB",
        )
        self.row(
            f"[{n}]   full sync / imapclient full fetch",
            f"{ratio:.2f}x  (vs app's items {run['total'] / same['fetch']:.2f}x)  "
            f"[target <= {TARGETS['ratio']}x: {verdict(ratio, TARGETS['ratio'])}]",
        )

        was_flagged, now_flagged = self.other_client_changes(name, n, n)
        incremental = self.child({"op": "sync", "folder_id": folder_id, "runs": 2})
        self.check_incremental(folder_id, n, was_flagged, now_flagged)
        inc, noop = (r["total"] * 1000 for r in incremental["runs"])
        self.row(
            f"[{n}] INCREMENTAL sync (+10 messages, 100 flag changes)",
            f"{inc:.0f} ms with connect+login ({incremental['runs'][0]['sync'] * 1000:.0f} ms in sync_folder, "
            f"CPU {incremental['runs'][0]['cpu'] * 1000:.0f} ms); "
            f"nothing changed: {noop:.0f} ms  [target <= {TARGETS['incremental']:.0f} ms: "
            f"{verdict(inc, TARGETS['incremental'])}]",
        )
        # The same kind of changes again, then plain imapclient: what any client's first SELECT
        # after another client's changes costs (Dovecot re-reads a maildir folder then).
        self.other_client_changes(name, n, n + 10)
        examine = self.child(floor | {"what": "examine"})
        self.row(
            f"[{n}]   FLOOR imapclient connect+login+EXAMINE after the same kind of changes",
            f"{examine['total'] * 1000:.0f} ms (EXAMINE alone {examine['select'] * 1000:.0f} ms)",
        )

        mix = self.warm_pages(folder_id, n + 10)
        for _kind, path in mix[:10]:  # both workers warm for this folder
            self.get(path)
        times: dict[str, list[float]] = {}
        workers = self.gunicorn_workers()
        cpu = cpu_seconds(workers)
        for kind, path in mix:
            elapsed, _body = self.get(path)
            times.setdefault(kind, []).append(elapsed)
            times.setdefault("all", []).append(elapsed)
        p50, p95 = quantiles(times["all"])
        self.row(
            f"[{n}] WARM list, {len(times['all'])} sequential GETs",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(times['all']):.1f} ms  "
            f"[target p95 <= {TARGETS['p95']:.0f} ms: {verdict(p95, TARGETS['p95'])}]",
        )
        for kind in ("first", "shallow", "deep", "last"):
            if kind in times:
                q50, q95 = quantiles(times[kind])
                self.row(f"[{n}]   {kind} pages (n={len(times[kind])})", f"p50 {q50:.1f} ms, p95 {q95:.1f} ms")
        cpu = (cpu_seconds(workers) - cpu) * 1000 / len(mix)
        self.row(f"[{n}]   gunicorn CPU per list GET (utime+stime, both workers)", f"{cpu:.1f} ms")
        # What any mailbox page costs (middleware, session, sidebar, base template), for scale.
        empty = f"/mail/{self.drafts_id}/"
        cpu = cpu_seconds(workers)
        floor = [self.get(empty)[0] for _ in range(EMPTY_REQUESTS)]
        cpu = (cpu_seconds(workers) - cpu) * 1000 / EMPTY_REQUESTS
        q50, q95 = quantiles(floor)
        self.row(
            f"[{n}]   for scale: empty folder page (Drafts), {EMPTY_REQUESTS} GETs",
            f"p50 {q50:.1f} ms, p95 {q95:.1f} ms; CPU {cpu:.1f} ms per GET",
        )
        peaks = ", ".join(f"{vm_hwm_mib(pid):.0f}" for pid in workers)
        self.row(
            f"[{n}] PEAK RSS gunicorn workers / sync process",
            f"{peaks} MiB / {sync['rss']:.0f} MiB (incremental: {incremental['rss']:.0f} MiB)",
        )
        if self.args.profile:
            self.profile(n, folder_id, mix)

    def profile(self, n: int, folder_id: int, mix: list[tuple[str, str]]) -> None:
        """cProfile of the list view (in this process, Django's test client) and of a full sync (a child)."""
        from django.test import Client

        out = Path(self.args.profile_dir)
        out.mkdir(parents=True, exist_ok=True)
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies.load(self.cookie)
        for _kind, path in mix[:5]:
            client.get(path)
        profiler = cProfile.Profile()
        profiler.enable()
        for _kind, path in mix[:60]:
            client.get(path)
        profiler.disable()
        profiler.dump_stats(out / f"list-{n}.prof")
        (out / f"list-{n}.txt").write_text(text := profile_text(profiler, 25))
        print(f"\n--- cProfile, 60 warm list GETs of the {n} folder (in-process test client)\n{text}", flush=True)

        reset_folder(folder_id)  # the view's next GET finds a folder never synced
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(f"/mail/{folder_id}/")
        profiler.disable()
        profiler.dump_stats(out / f"cold-{n}.prof")
        (out / f"cold-{n}.txt").write_text(text := profile_text(profiler, 25))
        print(f"\n--- cProfile, cold first page of the {n} folder\n{text}", flush=True)

        sync = self.child({"op": "sync", "folder_id": folder_id, "reset": True, "profile": str(out / f"sync-{n}.prof")})
        (out / f"sync-{n}.txt").write_text(sync["profile"])
        print(f"\n--- cProfile, full sync_folder of the {n} folder\n{sync['profile']}", flush=True)
        self.other_client_changes(f"Bench{n}", n, n + 20)
        incremental = self.child({"op": "sync", "folder_id": folder_id, "profile": str(out / f"incr-{n}.prof")})
        (out / f"incr-{n}.txt").write_text(incremental["profile"])
        print(f"\n--- cProfile, incremental sync_folder of the {n} folder\n{incremental['profile']}", flush=True)

    def run(self) -> None:
        database = self.prepare_environment()
        self.start_dovecot()
        import django

        django.setup()
        self.create_user()
        self.start_gunicorn()
        git = ["git", "describe", "--always", "--dirty"]
        revision = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip() or "?"
        self.header = [
            f"command: {' '.join([sys.executable, *sys.argv])}   (code: git {revision})",
            f"machine: nproc={os.cpu_count()}, {platform.platform()}, Python {platform.python_version()}",
            f"database: {database}; gunicorn -w 2 (sync), WEBMAIL_DEBUG=0; Dovecot "
            f"{subprocess.run(['dovecot', '--version'], capture_output=True, text=True).stdout.split()[0]} "
            "maildir on /tmp, IMAPS on 127.0.0.1; sync in a child process (webmail.sync.sync_folder), no worker",
            *(f"Dovecot setting: {name} = {value}" for name, value in self.args.dovecot_setting),
        ]
        print("\n".join(self.header), flush=True)
        self.row("load average at the start", " ".join(f"{x:.1f}" for x in os.getloadavg()))
        self.warm_workers()
        for n in self.args.sizes:
            self.measure_size(n)
        self.row("load average at the end", " ".join(f"{x:.1f}" for x in os.getloadavg()))

    def warm_workers(self) -> None:
        """Imports, templates and connections of both gunicorn workers, on the (empty) Drafts folder."""
        self.drafts_id = self.folder_id("Drafts")
        for _ in range(8):
            self.get(f"/mail/{self.drafts_id}/")

    def cleanup(self) -> None:
        self.stop_gunicorn()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.stop_dovecot()
        if url := self.env.get("DATABASE_URL"):
            with contextlib.suppress(Exception):
                admin_sql(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that SIGTERM (from `timeout`, say) also stops gunicorn and Dovecot


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def dovecot_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z_]+", name.strip()) or "\n" in value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        return child_main(json.loads(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=sizes, default=[10_000, 100_000], help="folder sizes (default 10000,100000)")
    parser.add_argument("--timeout", type=float, default=2400, help="overall limit in seconds (default 2400)")
    parser.add_argument(
        "--dovecot-setting",
        type=dovecot_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add a line to the private Dovecot's configuration (repeatable), e.g. maildir_very_dirty_syncs=yes",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the list view, a cold page and a full sync")
    parser.add_argument("--profile-dir", default="/tmp/webmail-bench-mailbox-profiles", help="where .prof files go")
    signal.signal(signal.SIGTERM, interrupted)
    status = 0
    with tempfile.TemporaryDirectory(prefix="webmail-bench-mailbox-") as tmp:
        bench = Bench(parser.parse_args(), Path(tmp))
        try:
            bench.run()
        except (Exception, KeyboardInterrupt) as exc:
            status = 130 if isinstance(exc, KeyboardInterrupt) else 1
            detail = traceback.format_exc() if type(exc) not in (BenchError, KeyboardInterrupt) else str(exc)
            print(f"\nINCOMPLETE: {detail or 'interrupted'}", file=sys.stderr)
            log = Path(tmp) / "gunicorn.log"
            if log.exists():
                print(f"--- gunicorn.log, the end:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        finally:
            bench.cleanup()
    width = max((len(label) for label, _ in bench.rows), default=0)
    print("", *bench.header, *(f"{label:<{width}}  {value}" for label, value in bench.rows), sep="\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
