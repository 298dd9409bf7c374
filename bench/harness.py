"""What the benches share: their setup, the processes they start, what they measure with and how they report.

A bench is a :class:`Bench` subclass run by :func:`main`: a temporary directory, the environment of the bench
and of every process it starts (:meth:`Bench.prepare_environment`: production-like settings, fresh keys, a
temporary SQLite file or a dropped-and-re-created PostgreSQL database when DATABASE_URL is set, a flushed Redis
db when REDIS_URL is set, then ``manage.py`` steps such as migrate), an overall deadline (:meth:`Bench.left`),
figures printed as they come (:meth:`Bench.row`) and again as one table at the end, also when a phase failed.

The scripts import this as ``bench.harness`` after putting the repository's root on ``sys.path``.
Nothing here imports Django at module level: the environment is made before ``django.setup()``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULT = "RESULT "  # a child process's answer is its last stdout line starting with this, then JSON


class BenchError(Exception):
    """A phase failed or time ran out; the figures gathered so far are still printed."""


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that SIGTERM (from `timeout`, say) also stops what the bench started


# -- figures ------------------------------------------------------------------------------------


def quantiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of ``values``, inclusive method; one value is both."""
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return q[49], q[94]


def p50_p95(values_ms: list[float]) -> str:
    p50, p95 = quantiles(values_ms)
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (n={len(values_ms)})"


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def profile_text(profiler: cProfile.Profile, top: int) -> str:
    """The ``top`` functions by own time, then by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- processes: CPU, memory, children -----------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes so far (a process that is gone counts nothing)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM); raises OSError, StopIteration or ValueError."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in lines if line.startswith(field)).split()[1])


def vm_hwm_mib(pid: int) -> float:
    """The process's peak resident memory in MiB, 0 when it cannot be read."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        return status_kb(pid, "VmHWM") / 1024
    return 0.0


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (ru_maxrss).

    Linux carries ru_maxrss across exec: in a process started by subprocess (vfork, then exec) it is at
    least the starting process's peak at that moment. vm_hwm_mib(os.getpid()) is the process's own."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_summary(pids: list[int], field: str) -> str:
    """``field`` (VmRSS, VmHWM) of each process, in the order given, in MiB, and the largest."""
    values = []
    for pid in pids:
        with contextlib.suppress(OSError, StopIteration, ValueError):
            values.append(status_kb(pid, field) / 1024)
    return " + ".join(f"{v:.0f}" for v in values) + f" MiB (largest {max(values, default=0):.0f})"


def sample_peaks(pids: Callable[[], list[int]], peaks: dict[int, int], stop: threading.Event) -> None:
    """Until ``stop`` is set, every 0.2 s: the highest VmHWM (kB) seen of each of ``pids()``, into ``peaks``."""
    while not stop.wait(0.2):
        for pid in pids():
            with contextlib.suppress(OSError, StopIteration, ValueError):
                peaks[pid] = max(status_kb(pid, "VmHWM"), peaks.get(pid, 0))


def children(pid: int) -> list[int]:
    """The process's direct children (of all its threads)."""
    pids: list[int] = []
    for listed in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(c) for c in listed.read_text().split()]
    return pids


def process_tree(roots: list[int]) -> list[int]:
    """``roots`` and all their descendants, the roots first."""
    pids = list(roots)
    for pid in pids:  # appending while iterating walks the whole tree
        pids += children(pid)
    return pids


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``command`` in the repository's root, in a session (process group) of its own, output to ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM to each that still runs; whichever has not exited ``grace`` s later: SIGKILL to its group."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()  # warm shutdown; a pool or workers go with their parent
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of a process we started
            process.wait(timeout=10)


def py_spy(pid: int, out: str) -> subprocess.Popen[bytes]:
    """py-spy recording the process's raw stacks (and its subprocesses') into ``out``; stop it with SIGINT."""
    spy = [str(BIN / "py-spy"), "record", "-p", str(pid), "-s", "-r", "250"]
    return subprocess.Popen([*spy, "-f", "raw", "-o", out], stdout=subprocess.DEVNULL)


# -- child processes that answer in JSON --------------------------------------------------------


def child_reply(result: dict[str, Any]) -> int:
    """In the child: print the answer :func:`run_child` reads."""
    print(RESULT + json.dumps(result))
    return 0


def run_child(command: list[str], spec: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run ``command`` + the JSON of ``spec`` in the root; returns the child's :func:`child_reply`."""
    try:
        done = subprocess.run([*command, json.dumps(spec)], cwd=ROOT, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"overall timeout reached during {spec['op']}") from exc
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        raise BenchError(f"child {spec['op']} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
    return json.loads(lines[-1][len(RESULT) :])


# -- databases ----------------------------------------------------------------------------------


def admin_sql(url: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database: the bench database is made and dropped from there."""
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def use_postgres(env: dict[str, str], name: str) -> str:
    """Point DATABASE_URL, if set, at database ``name``, dropped and re-created; returns what the bench uses."""
    if not (url := env.get("DATABASE_URL")):
        return "SQLite, temporary file"
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchError("DATABASE_URL must be a PostgreSQL URL")
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))  # never another database
    admin_sql(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{name}"


def drop_postgres(env: dict[str, str]) -> None:
    """Drop the bench database that :func:`use_postgres` made, if any."""
    if url := env.get("DATABASE_URL"):
        admin_sql(url, f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


def use_redis(env: dict[str, str], db: int) -> str:
    """Point REDIS_URL, if set, at db number ``db``, flushed; returns the broker the bench uses."""
    if not (url := env.get("REDIS_URL")):
        return "filesystem transport, temporary directory"
    import redis

    parts = urlsplit(url)
    env["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{db}"))
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    return f"Redis {parts.hostname}:{parts.port or 6379}/{db}"


def flush_redis(env: dict[str, str]) -> None:
    """Flush the Redis db that :func:`use_redis` chose, if any."""
    if url := env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(url).flushdb()


# -- the bench ----------------------------------------------------------------------------------


def settings_environment(settings: str, tmp: Path, **extra: str) -> dict[str, str]:
    """This process's environment without ``X_FILE`` variables, plus ``settings`` ("NAME=VALUE ..."),
    a WEBMAIL_VAR_DIR in ``tmp``, fresh keys and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}  # settings.py refuses X and X_FILE
    env |= dict(pair.split("=") for pair in settings.split()) | {
        "WEBMAIL_VAR_DIR": str(tmp / "var"),
        **extra,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WEBMAIL_SECRET_KEYS": base64.b64encode(os.urandom(32)).decode(),
    }
    return env


def revision() -> str:
    git = ["git", "describe", "--always", "--dirty"]
    return subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip() or "?"


class Bench:
    """The deadline, the figures and the environment of one run; subclasses add the phases in :meth:`run`."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp, self.end = args, tmp, time.monotonic() + args.timeout
        self.env: dict[str, str] = {}
        self.header: list[str] = []
        self.rows: list[tuple[str, str]] = []  # the final table, filled as phases finish

    def run(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Stop what the bench started and drop what it made; runs after :meth:`run`, also when it failed."""

    def failure_logs(self) -> list[Path]:
        """Logs whose end is printed when a phase failed."""
        return []

    def check_processes(self) -> None:
        """Raise BenchError if a process the phases need has exited."""

    def left(self) -> float:
        """Seconds left before the overall timeout; raises BenchError at it or when a process exited."""
        if (left := self.end - time.monotonic()) <= 0:
            raise BenchError(f"overall timeout ({self.args.timeout:.0f} s) reached")
        self.check_processes()
        return left

    def row(self, label: str, value: str) -> None:
        self.rows.append((label, value))
        print(f"  {label}: {value}", flush=True)

    def load_row(self, when: str) -> None:
        self.row(f"load average at the {when}", load_average())

    def print_header(self, *lines: str) -> None:
        """The command and code, the machine, then ``lines``; printed now and above the final table."""
        self.header = [
            f"command: {' '.join([sys.executable, *sys.argv])}   (code: git {revision()})",
            f"machine: nproc={os.cpu_count()}, {platform.platform()}, Python {platform.python_version()}",
            *lines,
        ]
        print("\n".join(self.header), flush=True)

    def use_environment(self, env: dict[str, str]) -> None:
        """``env`` becomes this process's environment and that of everything it starts."""
        self.env = env
        os.environ.clear()
        os.environ.update(env)

    def manage(self, *steps: str) -> None:
        """``manage.py <step> --noinput`` for each step, in the bench's environment."""
        for step in steps:
            command = [sys.executable, "manage.py", step, "--noinput"]
            done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, timeout=min(180, self.left()))
            if done.returncode:
                raise BenchError(f"{step} failed:\n{done.stderr.decode()[-2000:]}")

    def wait_ready(self, ready: Callable[[], bool], seconds: float, failed: Callable[[], str], pause: float) -> None:
        """Until ``ready()``: after ``seconds``, BenchError(``failed()``); ``pause`` s between tries."""
        ready_by = time.monotonic() + seconds
        while not ready():
            if self.left() and time.monotonic() > ready_by:
                raise BenchError(failed())
            time.sleep(pause)

    def print_table(self) -> None:
        width = max((len(label) for label, _ in self.rows), default=0)
        print("", *self.header, *(f"{label:<{width}}  {value}" for label, value in self.rows), sep="\n")


def run_bench(make: Callable[[Path], Bench], prefix: str) -> int:
    """Run a bench in a temporary directory; on failure say why and show its logs' ends; then the table."""
    signal.signal(signal.SIGTERM, interrupted)
    status, detail = 0, ""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        bench = make(Path(tmp))
        try:
            bench.run()
        except (Exception, KeyboardInterrupt) as exc:
            status = 130 if isinstance(exc, KeyboardInterrupt) else 1
            detail = traceback.format_exc() if type(exc) not in (BenchError, KeyboardInterrupt) else str(exc)
        finally:
            bench.cleanup()
        if status:
            print(f"\nINCOMPLETE: {detail or 'interrupted'}", file=sys.stderr)
            for log in bench.failure_logs():
                if log.exists():
                    print(f"--- {log.name}, the end:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
    bench.print_table()
    return status
