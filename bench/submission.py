"""Submission benchmark: messages per second and time to acceptance through the outbox.

All on 127.0.0.1, all throwaway: a temporary SQLite file, or the PostgreSQL database ``webmail_bench``
(dropped and re-created) when DATABASE_URL is set; the filesystem broker in a temporary WEBMAIL_VAR_DIR, or
Redis db 14 (flushed) when REDIS_URL is set; tests/servers' aiosmtpd (STARTTLS + AUTH) in its own process.

1. single message on an idle queue: sending.enqueue, published on commit, until sent;
2. burst: N rows stored with publishing suppressed; the on-commit publishes (outbox.tasks.announce_stored, which
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
import contextlib
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import BIN, BenchError, cpu_seconds, p50_p95  # noqa: E402
from bench.submission_mail import (  # noqa: E402
    Sink,
    analyze_outbox,
    create_sender,
    make_big_draft,
    make_draft,
    queued_doorbells,
    raw_send,
    timeline,
)
from tests.servers.certs import make_test_pki  # noqa: E402

BENCH_DB, REDIS_DB = "webmail_bench", 14
STALL_SECONDS = 30  # nothing settled for this long: stop, rather than wait for leases to expire
# Production-like (no DEBUG query log), no undo window, rate limits out of the way.
ENV = "DJANGO_SETTINGS_MODULE=webmail.settings WEBMAIL_DEBUG=0 ALLOWED_HOSTS=localhost WEBMAIL_LOG_LEVEL=WARNING \
WEBMAIL_UNDO_SECONDS=0 WEBMAIL_SEND_LIMIT_PER_HOUR=1000000000 WEBMAIL_SEND_LIMIT_PER_DAY=1000000000"


class Bench(harness.Bench):
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        super().__init__(args, tmp)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.peaks: dict[int, int] = {}  # pid -> highest VmHWM seen, kB
        self.pki = make_test_pki(tmp / "pki")
        self.sink = Sink(self.pki)  # before Django or any thread exists
        self.rng = random.Random(20260101)

    # -- plumbing ----------------------------------------------------------------------------

    def check_processes(self) -> None:
        if any(worker.poll() is not None for worker in self.workers):
            raise BenchError("a worker exited")

    def failure_logs(self) -> list[Path]:
        return sorted(self.tmp.glob("worker*.log"))

    def worker_pids(self) -> list[int]:
        return harness.process_tree([p.pid for p in self.workers])

    def resident_mib(self, field: str) -> str:
        """``field`` (VmRSS, VmHWM) of each worker process, the main one first, in MiB."""
        return harness.memory_summary(self.worker_pids(), field)

    def prepare_environment(self) -> tuple[str, str]:
        """The environment of this process, of migrate and of the workers; returns (database, broker)."""
        env = harness.settings_environment(ENV, self.tmp)
        database, broker = harness.use_postgres(env, BENCH_DB), harness.use_redis(env, REDIS_DB)
        self.use_environment(env)
        self.manage("migrate")
        return database, broker

    def start_workers(self) -> None:
        from webmail.celery import app

        names = [f"bench{i}@{platform.node()}" for i in range(self.args.workers)]
        for i in range(self.args.workers):
            command = [str(BIN / "celery"), "-A", "webmail", "worker", "--loglevel=WARNING", "-n", f"bench{i}@%h"]
            command += [f"--concurrency={self.args.concurrency}", "--without-heartbeat", "--without-gossip"]
            self.workers.append(
                harness.start_process([*command, "--without-mingle"], self.env, self.tmp / f"worker{i}.log")
            )
        self.wait_ready(
            lambda: len(app.control.ping(destination=names, timeout=0.5)) >= len(names),
            60,
            lambda: "the workers did not answer a ping within 60 s",
            pause=0,
        )

    def stop_workers(self) -> None:
        harness.stop_processes(self.workers, grace=10)
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

    # -- phases ------------------------------------------------------------------------------

    def single_latency(self, identity: Any) -> None:
        from outbox.sending import enqueue

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
        self.row("  sink received", f"{self.sink.count()} of {warmup + reps} ({warmup} warm-up)")

    def store_burst(self, identity: Any) -> list[Any]:
        """The burst's rows, stored with publishing suppressed (rows first, doorbells later)."""
        from outbox.models import OutgoingMessage
        from outbox.sending import enqueue

        n, messages, enqueue_ms = self.args.messages, [], []
        with mock.patch("outbox.tasks.announce_stored", lambda message: None):
            for i in range(n):
                draft = make_draft(identity, 1000 + i, self.rng)
                started = time.perf_counter()
                messages.append(enqueue(identity.user, draft))
                enqueue_ms.append((time.perf_counter() - started) * 1000)
                if i % 100 == 0:
                    self.left()
        analyze_outbox()  # as autovacuum leaves a table that just grew, before anything is drained
        ids = [str(message.pk) for message in messages]
        tenth, sizes = max(1, n // 10), OutgoingMessage.objects.filter(id__in=ids).values_list("size", flat=True)
        first, last = statistics.mean(enqueue_ms[:tenth]), statistics.mean(enqueue_ms[-tenth:])
        self.row("enqueue() of the burst's rows", f"first {tenth}: {first:.1f} ms each; last {tenth}: {last:.1f} ms")
        self.row("  mean message size", f"{statistics.mean(sizes) / 1024:.1f} KiB")
        return messages

    def burst(self, identity: Any) -> tuple[list[str], float]:
        """Store the burst, time its publishes, then the drain the first one's doorbell starts."""
        from django.utils import timezone

        from outbox import tasks
        from outbox.models import Doorbell, OutgoingMessage

        before = OutgoingMessage.objects.filter(state="sent").count()
        messages = self.store_burst(identity)
        n, ids = len(messages), [str(message.pk) for message in messages]
        # Each commit of the burst publishes (outbox.tasks.announce_stored); all but the first find the
        # account's doorbell on its way and only read it. Those are timed first, with the bell held
        # as if on its way, so that the drain is timed on its own: otherwise this process would
        # publish on the same two cores while the worker drains (what used to be measured).
        account_id, rung, ring = messages[0].account_id, [], tasks.try_publish

        def counted(*args: Any, **kwargs: Any) -> bool:
            rung.append(1)
            return ring(*args, **kwargs)

        Doorbell.objects.update_or_create(account_id=account_id, defaults={"rung_at": timezone.now()})
        with mock.patch.object(tasks, "try_publish", counted):
            start = time.perf_counter()
            for message in messages[1:]:
                tasks.announce_stored(message)
            took = time.perf_counter() - start
            self.row(
                "on-commit publishes, doorbell on its way",
                f"{n - 1} in {took:.2f} s ({took * 1000 / max(1, n - 1):.2f} ms each); "
                f"doorbells to the broker: {len(rung)}",
            )
            Doorbell.objects.filter(account_id=account_id).update(rung_at=None)
            pids, sink = self.worker_pids(), [self.sink.pid]
            cpu, spy = (
                (cpu_seconds(pids), cpu_seconds(sink)),
                harness.py_spy(pids[0], self.args.profile) if self.args.profile else None,
            )
            start = time.time()
            tasks.announce_stored(messages[0])  # the first commit: it rings
        self.row("  doorbells to the broker for the drain", str(len(rung)))
        # Polled slowly (polling is work for the database too); the end is the last acceptance.
        self.wait_sent(before + n, poll=0.5)
        self.row("  doorbells still queued when all were sent", str(queued_doorbells(self.env, self.tmp)))
        cpu = (cpu_seconds(pids) - cpu[0], cpu_seconds(sink) - cpu[1])
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        return ids, self.report_drain(ids, start, cpu)

    def report_drain(self, ids: list[str], start: float, cpu: tuple[float, float]) -> float:
        """The burst's figures, from the attempts recorded; returns its rate (messages per second)."""
        from outbox.models import OutgoingMessage

        n, times, (worker_cpu, sink_cpu) = len(ids), timeline(), cpu
        published = dict.fromkeys(ids, start)
        elapsed = max(times[m][2] for m in ids) - start
        self.row("PIPELINE burst throughput", f"{n / elapsed:.0f} msg/s ({n} messages in {elapsed:.2f} s)")
        self.row(
            "  CPU during the burst", f"workers {worker_cpu * 1000 / n:.2f} ms/msg, sink {sink_cpu * 1000 / n:.2f}"
        )
        self.row("  created->accepted (incl. wait in DB)", p50_p95([(times[m][2] - times[m][0]) * 1000 for m in ids]))
        self.row("  doorbell->accepted", p50_p95([(times[m][2] - published[m]) * 1000 for m in ids]))
        self.row("  MAIL FROM->accepted", p50_p95([(times[m][2] - times[m][1]) * 1000 for m in ids]))
        self.row("  sink received", f"{self.sink.count()} of {n}")
        claimed_twice = OutgoingMessage.objects.filter(id__in=ids, attempts__gt=1).count()
        self.row("  rows claimed more than once (attempts > 1)", str(claimed_twice))
        return n / elapsed

    def big(self, identity: Any) -> list[str]:
        """The big-message drain: worker memory before and at its peak, and the drain's rate."""
        from outbox import tasks
        from outbox.models import OutgoingMessage
        from outbox.sending import enqueue

        for i in range(4):  # every pool process has run the outbox code at least once, most likely
            enqueue(identity.user, make_draft(identity, i, self.rng))
            self.wait_sent(i + 1, poll=0.05)
        time.sleep(1)
        self.row("workers' resident memory before (VmRSS)", self.resident_mib("VmRSS"))
        before_peak = self.resident_mib("VmHWM")
        n, ids, messages = self.args.big, [], []
        with mock.patch("outbox.tasks.announce_stored", lambda message: None):
            for i in range(n):
                messages.append(enqueue(identity.user, make_big_draft(identity, i, self.args.big_bytes)))
                ids.append(str(messages[-1].pk))
                self.left()
        sizes = list(OutgoingMessage.objects.filter(id__in=ids).values_list("size", flat=True))
        self.row("big messages", f"{n} of {statistics.mean(sizes) / 1e6:.1f} MB ({sum(sizes) / 1e6:.0f} MB in all)")
        self.row("  workers' peak before (VmHWM)", before_peak)
        pids = self.worker_pids()
        cpu, start = cpu_seconds(pids), time.time()
        tasks.announce_stored(messages[0])  # rings the idle worker: the account's mail is due
        self.wait_sent(4 + n, poll=0.2)
        times = timeline()
        elapsed, cpu = max(times[m][2] for m in ids) - start, cpu_seconds(pids) - cpu
        self.row("PIPELINE big drain", f"{sum(sizes) / 1e6 / elapsed:.0f} MB/s ({n} in {elapsed:.2f} s)")
        self.row("  worker CPU", f"{cpu * 1000 / n:.0f} ms per message")
        self.row("  MAIL FROM->accepted", p50_p95([(times[m][2] - times[m][1]) * 1000 for m in ids]))
        self.row("workers' peak during the drain (VmHWM)", self.resident_mib("VmHWM"))
        self.row("  and resident after it (VmRSS)", self.resident_mib("VmRSS"))
        self.row("  sink received", f"{self.sink.count()} of {n + 4} (4 small warm-up)")
        return ids

    def raw_baseline(self, ids: list[str], port: int, width: int) -> float:
        """The stored messages again, straight from aiosmtplib over ``width`` connections; returns msg/s."""
        from outbox.models import OutgoingMessage

        rows = OutgoingMessage.objects.filter(id__in=ids).values_list("sender", "recipients__address", "mime")
        messages = [(sender, recipient, bytes(mime)) for sender, recipient, mime in rows]
        sink = [self.sink.pid]
        sink_cpu, cpu, started = cpu_seconds(sink), time.process_time(), time.perf_counter()
        asyncio.run(asyncio.wait_for(raw_send(messages, port, self.pki.ca_pem, width), self.left()))
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
            f"{rate:.{2 if self.args.big else 0}f} msg/s; {figures}; sink got {self.sink.count()}",
        )
        return rate

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> None:
        port = self.sink.start()
        try:
            if port is None:
                raise BenchError("the SMTP sink did not start")
            database, broker = self.prepare_environment()
            import django

            django.setup()
            self.print_bench_header(database, broker, port)
            self.load_row("start")
            identity = create_sender(port, self.pki.ca_pem)
            self.start_workers()
            if self.args.big:
                ids = self.big(identity)
                self.stop_workers()
                self.raw_baseline(ids, port, 1)
            else:
                self.small_messages(identity, port)
        except BaseException:
            with contextlib.suppress(Exception):
                self.row("sink received since its last count", self.sink.count())
            raise

    def print_bench_header(self, database: str, broker: str, port: int) -> None:
        from django.conf import settings

        a = self.args
        self.print_header(
            f"database: {database}; broker: {broker}; sink: STARTTLS + AUTH at 127.0.0.1:{port}",
            f"N={f'{a.big} big' if a.big else a.messages}; "
            f"workers: {a.workers} x --concurrency={a.concurrency}; "
            f"WEBMAIL_SMTP_CONNECTIONS={settings.WEBMAIL_SMTP_CONNECTIONS}; "
            f"WEBMAIL_CLAIM_BYTES={getattr(settings, 'WEBMAIL_CLAIM_BYTES', '-')}",
        )

    def small_messages(self, identity: Any, port: int) -> None:
        """Single-message latency, the burst (workers' memory sampled), then the raw baselines."""
        stop_sampling = threading.Event()
        sampler = threading.Thread(target=harness.sample_peaks, args=(self.worker_pids, self.peaks, stop_sampling))
        sampler.daemon = True
        sampler.start()
        try:
            self.single_latency(identity)
            ids, pipeline = self.burst(identity)
            time.sleep(0.5)
        finally:
            stop_sampling.set()
        peaks = self.peaks.values()
        sums = f"sum over {len(peaks)} processes {sum(peaks) / 1024:.0f} MiB; largest {max(peaks) / 1024:.0f} MiB"
        self.row("worker peak RSS (VmHWM, sampled)", sums)
        self.stop_workers()  # the baselines get the machine to themselves
        raw1, raw4 = self.raw_baseline(ids, port, 1), self.raw_baseline(ids, port, 4)
        self.row("pipeline / raw-1", f"{pipeline / raw1:.2f}")
        self.row("pipeline / raw-4", f"{pipeline / raw4:.2f}   [target >= 0.6]")
        self.load_row("end")

    def cleanup(self) -> None:
        """Stop the workers and the sink, drop the bench database and flush the bench Redis db."""
        self.stop_workers()
        self.sink.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        harness.drop_postgres(self.env)
        harness.flush_redis(self.env)


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
    args = parser.parse_args()
    return harness.run_bench(lambda tmp: Bench(args, tmp), prefix="webmail-bench-")


if __name__ == "__main__":
    sys.exit(main())
