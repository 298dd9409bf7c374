"""Submission benchmark: messages per second and time to acceptance through the outbox.

All on 127.0.0.1, all throwaway: a temporary SQLite file, or the PostgreSQL database ``webmail_bench``
(dropped and re-created) when DATABASE_URL is set; the filesystem broker in a temporary WEBMAIL_VAR_DIR, or
Redis db 14 (flushed) when REDIS_URL is set; tests/servers' aiosmtpd (STARTTLS + AUTH) in its own process.

1. single message on an idle queue: compose.enqueue, published on commit, until sent;
2. burst: N rows stored with publishing suppressed; the on-commit publishes (outbox.tasks.publish, which
   rings the broker only when no doorbell for the account is on its way) of all but the first, timed with
   the account's doorbell on its way; then the first one's, which rings the running, idle worker: the
   drain is timed from there to the last acceptance;
3. raw aiosmtplib sending the same stored bytes over 1 and 4 connections, workers stopped.

With ``--big N`` instead: N messages of about 25 MB (a 18.2 MB attachment) stored at once and
drained by the idle worker, with the worker processes' resident memory before (warmed up by a few
small messages) and their peak (VmHWM) during the drain; then raw aiosmtplib over one connection.

    .venv/bin/python bench/submission.py [--messages N] [--workers W] [--concurrency C]
    .venv/bin/python bench/submission.py --big 8
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import multiprocessing
import os
import platform
import random
import secrets
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.certs import TestPKI, make_test_pki  # noqa: E402
from tests.servers.smtpd import SMTPServer  # noqa: E402

BENCH_DB, REDIS_DB = "webmail_bench", 14
LOGIN, PASSWORD = "bench@example.test", "bench-password-not-a-secret"
BIN = ROOT / ".venv" / "bin"
STALL_SECONDS = 30  # nothing settled for this long: stop, rather than wait for leases to expire
TEXT = "the team agreed that our quarterly report and budget review should move to next week because several \
customers asked about delivery dates invoices contracts and the supplier schedule please find the updated \
numbers below and send me your comments before Thursday so we can close this café Zürich résumé Malmö"
WORDS = TEXT.split()
# Production-like (no DEBUG query log), no undo window, rate limits out of the way.
ENV = "DJANGO_SETTINGS_MODULE=webmail.settings WEBMAIL_DEBUG=0 ALLOWED_HOSTS=localhost WEBMAIL_LOG_LEVEL=WARNING \
WEBMAIL_UNDO_SECONDS=0 WEBMAIL_SEND_LIMIT_PER_HOUR=1000000000 WEBMAIL_SEND_LIMIT_PER_DAY=1000000000"


class BenchError(Exception):
    """A phase failed or time ran out; the figures gathered so far are still printed."""


def analyze_outbox() -> None:
    """Planner statistics of the outbox's tables. Autovacuum analyzes a table within about a
    minute of it growing by a tenth; the burst drains the rows it just stored at once, and
    without statistics PostgreSQL reads the whole recipient table for each batch."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE outbox_outgoingmessage, outbox_recipient, outbox_deliveryattempt")


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def p50_p95(values_ms: list[float]) -> str:
    q = statistics.quantiles(values_ms, n=100, method="inclusive") if len(values_ms) > 1 else values_ms * 99
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms (n={len(values_ms)})"


def admin_sql(url: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database: the bench database is made and dropped from there."""
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def sink_main(pki: TestPKI, pipe: Connection) -> None:
    """The submission server, in its own process: answers "count" (and forgets), stops on anything else.

    A count is "<messages> (<distinct message bytes> distinct)": the same bytes twice is a duplicate send."""
    server = SMTPServer(pki, "starttls", {LOGIN: PASSWORD})
    server.start()
    pipe.send(server.port)
    while pipe.recv() == "count":
        messages = server.messages
        pipe.send(f"{len(messages)} ({len({m.data for m in messages})} distinct)")
        server.reset()
    server.stop()


def make_draft(identity: Any, i: int, rng: random.Random, size: int = 9500) -> Any:
    """A plain-text message to one recipient, about 10 KB once encoded."""
    from outbox.compose import Draft, Mailbox

    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < size:
        sentences = [" ".join(rng.choices(WORDS, k=rng.randint(8, 18))).capitalize() + "." for _ in range(5)]
        paragraphs.append(textwrap.fill(" ".join(sentences), 72))
    body = "Hello,\n\n" + "\n\n".join(paragraphs) + "\n\nBest regards,\nBench Sender"
    to = [Mailbox(f"Reader {i}", f"reader{i}@example.test")]
    return Draft(identity=identity, to=to, subject=f"Notes from the planning meeting, part {i}", body=body)


def make_big_draft(identity: Any, i: int, size: int) -> Any:
    """A short text with an attachment of ``size`` random bytes (base64: about 4/3 of that)."""
    from outbox.compose import Attachment, Draft, Mailbox

    attachment = Attachment(f"archive-{i}.bin", "application/octet-stream", os.urandom(size))
    to = [Mailbox(f"Reader {i}", f"reader{i}@example.test")]
    return Draft(identity=identity, to=to, subject=f"The archive, part {i}", body="Attached.", attachments=[attachment])


def status_kb(pid: int, field: str) -> int:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in lines if line.startswith(field)).split()[1])


def timeline() -> dict[str, tuple[float, float, float]]:
    """message id -> (created_at, MAIL FROM sent, accepted = end of DATA), as POSIX times."""
    from outbox.models import DeliveryAttempt

    rows = DeliveryAttempt.objects.filter(step__in=("mail", "data"), code=250).order_by("message_id", "started_at")
    rows = list(rows.values_list("message_id", "step", "started_at", "duration_ms", "message__created_at"))
    mail = {str(m): s.timestamp() for m, step, s, _d, _c in rows if step == "mail"}
    return {
        str(m): (c.timestamp(), mail[str(m)], (s + timedelta(milliseconds=d)).timestamp())
        for m, step, s, d, c in rows
        if step == "data"
    }


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp, self.end = args, tmp, time.monotonic() + args.timeout
        self.env: dict[str, str] = {}
        self.header: list[str] = []
        self.rows: list[tuple[str, str]] = []  # the final table, filled as phases finish
        self.workers: list[subprocess.Popen[bytes]] = []
        self.peaks: dict[int, int] = {}  # pid -> highest VmHWM seen, kB
        self.pki = make_test_pki(tmp / "pki")
        fork = multiprocessing.get_context("fork")  # before Django or any thread exists
        self.sink, theirs = fork.Pipe()
        self.sink_process = fork.Process(target=sink_main, args=(self.pki, theirs), daemon=True)
        self.rng = random.Random(20260101)

    def left(self) -> float:
        if (left := self.end - time.monotonic()) <= 0:
            raise BenchError(f"overall timeout ({self.args.timeout:.0f} s) reached")
        if any(worker.poll() is not None for worker in self.workers):
            raise BenchError("a worker exited")
        return left

    def row(self, label: str, value: str) -> None:
        self.rows.append((label, value))
        print(f"  {label}: {value}", flush=True)

    def sink_count(self) -> str:
        self.sink.send("count")
        return self.sink.recv()

    def queued_doorbells(self) -> int:
        if url := self.env.get("REDIS_URL"):
            import redis

            return int(redis.Redis.from_url(url).llen("celery"))
        return sum(1 for _ in (self.tmp / "var" / "broker" / "queue").iterdir())

    def worker_pids(self) -> list[int]:
        pids = [p.pid for p in self.workers]
        for pid in pids:  # appending while iterating walks the whole tree
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    pids += [int(c) for c in children.read_text().split()]
        return pids

    def sample_rss(self, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            for pid in self.worker_pids():
                with contextlib.suppress(OSError, StopIteration, ValueError):
                    self.peaks[pid] = max(status_kb(pid, "VmHWM"), self.peaks.get(pid, 0))

    def resident_mib(self, field: str) -> str:
        """``field`` (VmRSS, VmHWM) of each worker process, the main one first, in MiB."""
        values = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError, StopIteration, ValueError):
                values.append(status_kb(pid, field) / 1024)
        return " + ".join(f"{v:.0f}" for v in values) + f" MiB (largest {max(values, default=0):.0f})"

    def prepare_environment(self) -> tuple[str, str]:
        """The environment of this process, of migrate and of the workers; returns (database, broker)."""
        env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}  # settings.py refuses X and X_FILE
        env |= dict(pair.split("=") for pair in ENV.split()) | {
            "WEBMAIL_VAR_DIR": str(self.tmp / "var"),
            "SECRET_KEY": secrets.token_urlsafe(50),
        }
        env["WEBMAIL_SECRET_KEYS"] = base64.b64encode(os.urandom(32)).decode()
        database, broker = "SQLite, temporary file", "filesystem transport, temporary directory"
        if url := env.get("DATABASE_URL"):
            parts = urlsplit(url)
            if parts.scheme not in ("postgres", "postgresql"):
                raise BenchError("DATABASE_URL must be a PostgreSQL URL")
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))  # never another database
            admin_sql(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
            database = f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{BENCH_DB}"
        if url := env.get("REDIS_URL"):
            import redis

            parts = urlsplit(url)
            env["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{REDIS_DB}"))
            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
            broker = f"Redis {parts.hostname}:{parts.port or 6379}/{REDIS_DB}"
        self.env = env
        os.environ.clear()
        os.environ.update(env)
        command = [sys.executable, "manage.py", "migrate", "--noinput"]
        migrate = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=min(180, self.left()))
        if migrate.returncode:
            raise BenchError(f"migrate failed:\n{migrate.stderr.decode()[-2000:]}")
        return database, broker

    def start_workers(self) -> None:
        from webmail.celery import app

        names = [f"bench{i}@{platform.node()}" for i in range(self.args.workers)]
        for i in range(self.args.workers):
            command = [str(BIN / "celery"), "-A", "webmail", "worker", "--loglevel=WARNING", "-n", f"bench{i}@%h"]
            command += [f"--concurrency={self.args.concurrency}", "--without-heartbeat", "--without-gossip"]
            with open(self.tmp / f"worker{i}.log", "wb") as log:
                options: dict[str, Any] = {"stdout": log, "stderr": log, "start_new_session": True}
                self.workers.append(subprocess.Popen([*command, "--without-mingle"], cwd=ROOT, env=self.env, **options))
        ready_by = time.monotonic() + 60
        while len(app.control.ping(destination=names, timeout=0.5)) < len(names):
            if self.left() and time.monotonic() > ready_by:
                raise BenchError("the workers did not answer a ping within 60 s")

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()  # warm shutdown; the pool goes with it
        for worker in self.workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)  # the group of a process we started: worker and pool
                worker.wait(timeout=10)
        self.workers = []

    def wait_sent(self, total: int, poll: float) -> float:
        """Poll until ``total`` rows are sent; returns the wall-clock time that was seen."""
        from django.db.models import Count

        from outbox.models import OutgoingMessage

        last, progress_at = -1, time.monotonic()
        while True:
            counts = dict(OutgoingMessage.objects.order_by().values_list("state").annotate(n=Count("id")))
            if (sent := counts.get("sent", 0)) >= total:
                return time.time()
            if bad := {k: v for k, v in counts.items() if k not in ("queued", "sending", "sent")}:
                raise BenchError(f"messages ended in {bad}")
            if sent != last:
                last, progress_at = sent, time.monotonic()
            elif time.monotonic() - progress_at > STALL_SECONDS:
                raise BenchError(f"no message settled for {STALL_SECONDS} s; states: {counts}")
            self.left()
            time.sleep(poll)

    def single_latency(self, identity: Any) -> None:
        from outbox.compose import enqueue

        warmup, reps, ids, enqueue_ms = 3, self.args.single, [], []
        for i in range(warmup + reps):
            draft = make_draft(identity, i, self.rng)
            started = time.perf_counter()
            ids.append(str(enqueue(identity.user, draft).pk))  # publishes on commit, as the compose view does
            enqueue_ms.append((time.perf_counter() - started) * 1000)
            self.wait_sent(i + 1, poll=0.01)
            time.sleep(0.2)  # let the run close its connection and the worker go idle
        times = [timeline()[m] for m in ids[warmup:]]
        self.row(
            "SINGLE message created->accepted",
            p50_p95([(a - c) * 1000 for c, _m, a in times]) + "  [target p50 <= 100 ms]",
        )
        self.row(
            "  created->MAIL FROM (publish, pickup, claim, connect)", p50_p95([(m - c) * 1000 for c, m, _a in times])
        )
        self.row("  MAIL FROM->accepted (one SMTP transaction)", p50_p95([(a - m) * 1000 for _c, m, a in times]))
        self.row("  enqueue() call", p50_p95(enqueue_ms[warmup:]))
        self.row("  sink received", f"{self.sink_count()} of {warmup + reps} ({warmup} warm-up)")

    def burst(self, identity: Any) -> tuple[list[str], float]:
        from django.utils import timezone

        from outbox import tasks
        from outbox.compose import enqueue
        from outbox.models import Doorbell, OutgoingMessage

        n, before, ids, enqueue_ms = self.args.messages, OutgoingMessage.objects.filter(state="sent").count(), [], []
        messages = []
        with mock.patch("outbox.tasks.publish", lambda message: None):  # rows first, doorbells later
            for i in range(n):
                draft = make_draft(identity, 1000 + i, self.rng)
                started = time.perf_counter()
                messages.append(enqueue(identity.user, draft))
                ids.append(str(messages[-1].pk))
                enqueue_ms.append((time.perf_counter() - started) * 1000)
                if i % 100 == 0:
                    self.left()
        analyze_outbox()  # as autovacuum leaves a table that just grew, before anything is drained
        tenth, sizes = max(1, n // 10), OutgoingMessage.objects.filter(id__in=ids).values_list("size", flat=True)
        first, last = statistics.mean(enqueue_ms[:tenth]), statistics.mean(enqueue_ms[-tenth:])
        self.row("enqueue() of the burst's rows", f"first {tenth}: {first:.1f} ms each; last {tenth}: {last:.1f} ms")
        self.row("  mean message size", f"{statistics.mean(sizes) / 1024:.1f} KiB")
        # Each commit of the burst publishes (outbox.tasks.publish); all but the first find the
        # account's doorbell on its way and only read it. Those are timed first, with the bell held
        # as if on its way, so that the drain is timed on its own: otherwise this process would
        # publish on the same two cores while the worker drains (what used to be measured).
        account_id, rung, ring = messages[0].account_id, [], tasks.ring

        def counted(*args: Any, **kwargs: Any) -> bool:
            rung.append(1)
            return ring(*args, **kwargs)

        Doorbell.objects.update_or_create(account_id=account_id, defaults={"rung_at": timezone.now()})
        with mock.patch.object(tasks, "ring", counted):
            start = time.perf_counter()
            for message in messages[1:]:
                tasks.publish(message)
            took = time.perf_counter() - start
            self.row(
                "on-commit publishes, doorbell on its way",
                f"{n - 1} in {took:.2f} s ({took * 1000 / max(1, n - 1):.2f} ms each); "
                f"doorbells to the broker: {len(rung)}",
            )
            Doorbell.objects.filter(account_id=account_id).update(rung_at=None)
            pids, sink = self.worker_pids(), [self.sink_process.pid or 0]
            worker_cpu, sink_cpu = cpu_seconds(pids), cpu_seconds(sink)
            spy = self.args.profile and [str(BIN / "py-spy"), "record", "-p", str(pids[0]), "-s", "-r", "250"]
            spy = spy and subprocess.Popen([*spy, "-f", "raw", "-o", self.args.profile], stdout=subprocess.DEVNULL)
            start = time.time()
            tasks.publish(messages[0])  # the first commit: it rings
            published = dict.fromkeys(ids, start)
        self.row("  doorbells to the broker for the drain", str(len(rung)))
        # Polled slowly (polling is work for the database too); the end is the last acceptance.
        self.wait_sent(before + n, poll=0.5)
        self.row("  doorbells still queued when all were sent", str(self.queued_doorbells()))
        worker_cpu, sink_cpu = cpu_seconds(pids) - worker_cpu, cpu_seconds(sink) - sink_cpu
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        times = timeline()
        elapsed = max(times[m][2] for m in ids) - start
        self.row("PIPELINE burst throughput", f"{n / elapsed:.0f} msg/s ({n} messages in {elapsed:.2f} s)")
        self.row(
            "  CPU during the burst", f"workers {worker_cpu * 1000 / n:.2f} ms/msg, sink {sink_cpu * 1000 / n:.2f}"
        )
        self.row("  created->accepted (incl. wait in DB)", p50_p95([(times[m][2] - times[m][0]) * 1000 for m in ids]))
        self.row("  doorbell->accepted", p50_p95([(times[m][2] - published[m]) * 1000 for m in ids]))
        self.row("  MAIL FROM->accepted", p50_p95([(times[m][2] - times[m][1]) * 1000 for m in ids]))
        self.row("  sink received", f"{self.sink_count()} of {n}")
        claimed_twice = OutgoingMessage.objects.filter(id__in=ids, attempts__gt=1).count()
        self.row("  rows claimed more than once (attempts > 1)", str(claimed_twice))
        return ids, n / elapsed

    def big(self, identity: Any) -> list[str]:
        """The big-message drain: worker memory before and at its peak, and the drain's rate."""
        from outbox import tasks
        from outbox.compose import enqueue
        from outbox.models import OutgoingMessage

        for i in range(4):  # every pool process has run the outbox code at least once, most likely
            enqueue(identity.user, make_draft(identity, i, self.rng))
            self.wait_sent(i + 1, poll=0.05)
        time.sleep(1)
        self.row("workers' resident memory before (VmRSS)", self.resident_mib("VmRSS"))
        before_peak = self.resident_mib("VmHWM")
        n, ids, messages = self.args.big, [], []
        with mock.patch("outbox.tasks.publish", lambda message: None):
            for i in range(n):
                messages.append(enqueue(identity.user, make_big_draft(identity, i, self.args.big_bytes)))
                ids.append(str(messages[-1].pk))
                self.left()
        sizes = list(OutgoingMessage.objects.filter(id__in=ids).values_list("size", flat=True))
        self.row("big messages", f"{n} of {statistics.mean(sizes) / 1e6:.1f} MB ({sum(sizes) / 1e6:.0f} MB in all)")
        self.row("  workers' peak before (VmHWM)", before_peak)
        pids = self.worker_pids()
        cpu, start = cpu_seconds(pids), time.time()
        tasks.publish(messages[0])  # rings the idle worker: the account's mail is due
        self.wait_sent(4 + n, poll=0.2)
        times = timeline()
        elapsed, cpu = max(times[m][2] for m in ids) - start, cpu_seconds(pids) - cpu
        self.row("PIPELINE big drain", f"{sum(sizes) / 1e6 / elapsed:.0f} MB/s ({n} in {elapsed:.2f} s)")
        self.row("  worker CPU", f"{cpu * 1000 / n:.0f} ms per message")
        self.row("  MAIL FROM->accepted", p50_p95([(times[m][2] - times[m][1]) * 1000 for m in ids]))
        self.row("workers' peak during the drain (VmHWM)", self.resident_mib("VmHWM"))
        self.row("  and resident after it (VmRSS)", self.resident_mib("VmRSS"))
        self.row("  sink received", f"{self.sink_count()} of {n + 4} (4 small warm-up)")
        return ids

    def raw_baseline(self, ids: list[str], port: int, width: int) -> float:
        import aiosmtplib

        from outbox.models import OutgoingMessage

        rows = OutgoingMessage.objects.filter(id__in=ids).values_list("sender", "recipients__address", "mime")
        messages = [(sender, recipient, bytes(mime)) for sender, recipient, mime in rows]

        async def lane(share: list[tuple[str, str, bytes]]) -> None:
            context = ssl.create_default_context(cadata=self.pki.ca_pem)
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=True, tls_context=context, timeout=60)
            await client.connect()
            await client.login(LOGIN, PASSWORD)
            for sender, recipient, data in share:
                await client.sendmail(sender, [recipient], data)
            await client.quit()

        async def lanes() -> None:
            await asyncio.wait_for(asyncio.gather(*(lane(messages[i::width]) for i in range(width))), self.left())

        sink = [self.sink_process.pid or 0]
        sink_cpu, cpu, started = cpu_seconds(sink), time.process_time(), time.perf_counter()
        asyncio.run(lanes())
        rate, cpu, sink_cpu = (
            len(messages) / (time.perf_counter() - started),
            time.process_time() - cpu,
            cpu_seconds(sink) - sink_cpu,
        )
        figures = f"client CPU {cpu * 1000 / len(messages):.2f} ms/msg, sink {sink_cpu * 1000 / len(messages):.2f}"
        if self.args.big:
            megabytes = sum(len(data) for _s, _r, data in messages) / 1e6
            figures = f"{rate * megabytes / len(messages):.0f} MB/s; {figures}"
        self.row(
            f"RAW aiosmtplib, {width} connection(s)",
            f"{rate:.{2 if self.args.big else 0}f} msg/s; {figures}; sink got {self.sink_count()}",
        )
        return rate

    def run(self) -> None:
        self.sink_process.start()
        stop_sampling = threading.Event()
        try:
            if not self.sink.poll(30):
                raise BenchError("the SMTP sink did not start")
            port = self.sink.recv()
            database, broker = self.prepare_environment()
            import django

            django.setup()
            from django.conf import settings

            from accounts.models import Identity, MailAccount, Security, User

            a, git = self.args, ["git", "describe", "--always", "--dirty"]
            revision = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip() or "?"
            self.header = [
                f"command: {' '.join([sys.executable, *sys.argv])}   (code: git {revision})",
                f"machine: nproc={os.cpu_count()}, {platform.platform()}, Python {platform.python_version()}",
                f"database: {database}; broker: {broker}; sink: STARTTLS + AUTH at 127.0.0.1:{port}",
                f"N={f'{a.big} big' if a.big else a.messages}; "
                f"workers: {a.workers} x --concurrency={a.concurrency}; "
                f"WEBMAIL_SMTP_CONNECTIONS={settings.WEBMAIL_SMTP_CONNECTIONS}; "
                f"WEBMAIL_CLAIM_BYTES={getattr(settings, 'WEBMAIL_CLAIM_BYTES', '-')}",
            ]
            print("\n".join(self.header), flush=True)
            self.row("load average at the start", " ".join(f"{x:.1f}" for x in os.getloadavg()))
            user = User.objects.create_user(LOGIN, None, full_name="Bench Sender")
            account = MailAccount(user=user, smtp_host="127.0.0.1", smtp_port=port, server_saves_sent=True)
            account.smtp_security, account.ca_certificates = Security.STARTTLS, self.pki.ca_pem
            account.set_secret("imap_password", PASSWORD)
            account.save()
            identity = Identity.objects.create(user=user, account=account, address=LOGIN, display_name="Bench Sender")
            self.start_workers()
            if a.big:
                ids = self.big(identity)
                self.stop_workers()
                self.raw_baseline(ids, port, 1)
                return
            threading.Thread(target=self.sample_rss, args=(stop_sampling,), daemon=True).start()
            self.single_latency(identity)
            ids, pipeline = self.burst(identity)
            time.sleep(0.5)
            stop_sampling.set()
            peaks = self.peaks.values()
            sums = f"sum over {len(peaks)} processes {sum(peaks) / 1024:.0f} MiB; largest {max(peaks) / 1024:.0f} MiB"
            self.row("worker peak RSS (VmHWM, sampled)", sums)
            self.stop_workers()  # the baselines get the machine to themselves
            raw1, raw4 = self.raw_baseline(ids, port, 1), self.raw_baseline(ids, port, 4)
            self.row("pipeline / raw-1", f"{pipeline / raw1:.2f}")
            self.row("pipeline / raw-4", f"{pipeline / raw4:.2f}   [target >= 0.6]")
            self.row("load average at the end", " ".join(f"{x:.1f}" for x in os.getloadavg()))
        except BaseException:
            with contextlib.suppress(Exception):
                self.row("sink received since its last count", self.sink_count())
            raise
        finally:
            stop_sampling.set()
            self.stop_workers()
            with contextlib.suppress(OSError):
                self.sink.send("stop")
            self.sink_process.join(10)
            if self.sink_process.is_alive():
                self.sink_process.kill()
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            self.cleanup()

    def cleanup(self) -> None:
        """Drop the bench database and flush the bench Redis db."""
        if url := self.env.get("DATABASE_URL"):
            admin_sql(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if url := self.env.get("REDIS_URL"):
            import redis

            redis.Redis.from_url(url).flushdb()


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that SIGTERM (from `timeout`, say) also stops the workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages in the burst (default 2000)")
    parser.add_argument("--workers", type=int, default=1, help="celery worker processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=2, help="--concurrency of each worker (default 2)")
    parser.add_argument("--single", type=int, default=30, help="single-message repetitions (default 30)")
    parser.add_argument("--timeout", type=float, default=600, help="overall limit in seconds (default 600)")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the first worker during the burst (raw stacks)")
    parser.add_argument("--big", type=int, default=0, metavar="N", help="instead: drain N messages of about 25 MB")
    parser.add_argument(
        "--big-bytes", type=int, default=18_200_000, help="attachment size of a big message (default 18200000)"
    )
    signal.signal(signal.SIGTERM, interrupted)
    status = 0
    with tempfile.TemporaryDirectory(prefix="webmail-bench-") as tmp:
        bench = Bench(parser.parse_args(), Path(tmp))
        try:
            bench.run()
        except (Exception, KeyboardInterrupt) as exc:
            status = 130 if isinstance(exc, KeyboardInterrupt) else 1
            detail = traceback.format_exc() if type(exc) not in (BenchError, KeyboardInterrupt) else str(exc)
            print(f"\nINCOMPLETE: {detail or 'interrupted'}", file=sys.stderr)
            for log in sorted(Path(tmp).glob("worker*.log")):
                print(f"--- {log.name}, the end:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
    width = max((len(label) for label, _ in bench.rows), default=0)
    print("", *bench.header, *(f"{label:<{width}}  {value}" for label, value in bench.rows), sep="\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
