"""Mailbox benchmark: the envelope cache against a private Dovecot, one folder per size.

All on 127.0.0.1, all throwaway: tests/servers' Dovecot in a work directory under /tmp, folders written
straight into its maildir (one folder per size, filled with generated but realistic mail), a temporary
SQLite file, or the PostgreSQL database ``webmail_bench_mailbox`` (dropped and re-created) when
DATABASE_URL is set, and gunicorn (2 sync workers) spoken to over HTTP with a session made in the database.
Sync work runs in a child process of this script calling webmail's sync functions (no Celery worker: the
tasks the view publishes land in a filesystem broker that nobody reads), so its peak RSS is its own.

Per size:
1. cold first page: GET /mail/<id>/ of a folder never synced (head sync of the newest 50, then publish);
2. full initial sync: webmail.mailbox.sync.sync_folder from an empty cache until complete;
3. incremental sync after another IMAP client appended 10 messages and changed flags on 100;
4. warm list: 200 sequential GETs of /mail/<id>/ and ?page=N, cache complete (and, for scale, 50 of an empty folder);
5. peak RSS (VmHWM) of the gunicorn workers and of the sync process;
floors: imapclient fetching ENVELOPE FLAGS RFC822.SIZE for the newest 50 and for the whole folder.

    .venv/bin/python bench/mailbox.py [--sizes 10000,100000] [--dovecot-setting NAME=VALUE] [--timeout S]
                                      [--profile] [--profile-dir DIR]

The generated mail is in bench/mailbox_corpus.py, the child process in bench/mailbox_child.py, the servers
and the user in bench/mailbox_setup.py, what both benches share in bench/harness.py.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import BenchError, cpu_seconds, profile_text, quantiles, verdict, vm_hwm_mib  # noqa: E402
from bench.mailbox_child import FETCH_CHUNK, child_main, reset_folder  # noqa: E402
from bench.mailbox_setup import MailboxSetup  # noqa: E402

BENCH_DB = os.environ.get("BENCH_DATABASE", "webmail_bench_mailbox")  # dropped and re-created
# Production settings (WEBMAIL_DEBUG=0, collected static files), minus what needs HTTPS: the
# bench speaks plain HTTP to gunicorn where a deployment has a TLS proxy in front.
ENV = (
    "DJANGO_SETTINGS_MODULE=webmail.settings WEBMAIL_DEBUG=0 ALLOWED_HOSTS=127.0.0.1 WEBMAIL_LOG_LEVEL=WARNING "
    "WEBMAIL_SECURE_COOKIES=0 WEBMAIL_SSL_REDIRECT=0"
)
FLOOR_ITEMS = [b"ENVELOPE", b"FLAGS", b"RFC822.SIZE"]
WARM_REQUESTS = 200
EMPTY_REQUESTS = 50
TARGETS = {"cold": 300.0, "p95": 20.0, "ratio": 1.5, "incremental": 250.0}  # ms, ms, x, ms


class Bench(MailboxSetup):
    def run(self) -> None:
        database = self.prepare_environment(ENV, BENCH_DB)
        self.start_dovecot()
        import django

        django.setup()
        self.create_user()
        self.start_gunicorn()
        self.print_header(
            f"database: {database}; gunicorn -w 2 (sync), WEBMAIL_DEBUG=0; Dovecot {self.dovecot_version()} "
            "maildir on /tmp, IMAPS on 127.0.0.1; "
            "sync in a child process (webmail.mailbox.sync.sync_folder), no worker",
            *(f"Dovecot setting: {name} = {value}" for name, value in self.args.dovecot_setting),
        )
        self.load_row("start")
        self.warm_workers()
        for n in self.args.sizes:
            self.measure_size(n)
        self.load_row("end")

    def warm_workers(self) -> None:
        """Imports, templates and connections of both gunicorn workers, on the (empty) Drafts folder."""
        self.drafts_id = self.folder_id("Drafts")
        for _ in range(8):
            self.get(f"/mail/{self.drafts_id}/")

    def measure_size(self, n: int) -> None:
        """Every phase on a new folder of ``n`` messages."""
        name = f"Bench{n}"
        self.fill(name, n)
        floor: dict[str, Any] = {"op": "floor", "ca": str(self.pki.ca_path), "port": self.dovecot.imaps_port}
        floor |= {"folder": name, "items": [i.decode() for i in FLOOR_ITEMS]}
        full, same = self.floors(n, floor)
        folder_id = self.folder_id(name)
        self.cold_page(n, folder_id)
        sync = self.full_sync(n, folder_id, full["fetch"], same["fetch"])
        incremental = self.incremental_sync(n, name, folder_id)
        self.examine_floor(n, name, floor)
        mix = self.warm_pages(folder_id, n + 10)
        workers = self.warm_list(n, mix)
        self.empty_page(n, workers)
        peaks = ", ".join(f"{vm_hwm_mib(pid):.0f}" for pid in workers)
        self.row(
            f"[{n}] PEAK RSS gunicorn workers / sync process",
            f"{peaks} MiB / {sync['rss']:.0f} MiB (incremental: {incremental['rss']:.0f} MiB)",
        )
        if self.args.profile:
            self.profile(n, folder_id, mix)

    # -- the phases of one size --------------------------------------------------------------

    def floors(self, n: int, floor: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """imapclient's newest 50 and whole folder; returns the whole folder with FLOOR_ITEMS and the app's."""
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
        from webmail.mailbox.sync import ENVELOPE_ITEMS, LAZY_PREVIEW

        # As the app's backfill fetches them: with the previews Dovecot has already (LAZY).
        items = [i.decode() for i in (*ENVELOPE_ITEMS, LAZY_PREVIEW)]
        same = self.child(floor | {"what": "full", "items": items})
        self.row(
            f"[{n}]   imapclient whole folder, the backfill's items (+UID, REFERENCES, CONTENT-TYPE, PREVIEW (LAZY))",
            f"{same['fetch']:.2f} s",
        )
        return full, same

    def cold_page(self, n: int, folder_id: int) -> None:
        cold_ms, body = self.get(f"/mail/{folder_id}/")
        shown = body.count(b'name="uid"')
        self.row(
            f"[{n}] COLD first page GET /mail/<id>/ (never synced)",
            f"{cold_ms:.0f} ms, {shown} rows shown  "
            f"[target <= {TARGETS['cold']:.0f} ms: {verdict(cold_ms, TARGETS['cold'])}]",
        )
        if shown != 50:
            raise BenchError(f"the cold first page showed {shown} rows, not 50")

    def full_sync(self, n: int, folder_id: int, floor_s: float, app_items_s: float) -> dict[str, Any]:
        """From an empty cache to complete, against the floors' whole-folder fetches (seconds)."""
        sync = self.child({"op": "sync", "folder_id": folder_id, "reset": True})
        run = sync["runs"][0]
        ratio = run["total"] / floor_s
        if not sync["complete"] or sync["total_rows"] != n:
            raise BenchError(f"full sync left {sync['total_rows']} rows, complete={sync['complete']}")
        self.row(
            f"[{n}] FULL initial sync (empty cache -> complete)",
            f"{run['total']:.2f} s ({run['sync']:.2f} s in sync_folder, CPU {run['cpu']:.2f} s); "
            f"{n / run['total']:.0f} msg/s; peak RSS {sync['rss']:.0f} MiB",
        )
        self.row(
            f"[{n}]   full sync / imapclient full fetch",
            f"{ratio:.2f}x  (vs app's items {run['total'] / app_items_s:.2f}x)  "
            f"[target <= {TARGETS['ratio']}x: {verdict(ratio, TARGETS['ratio'])}]",
        )
        return sync

    def incremental_sync(self, n: int, name: str, folder_id: int) -> dict[str, Any]:
        """After another client's changes, then again with nothing changed."""
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
        return incremental

    def check_incremental(self, folder_id: int, n: int, was_flagged: list[int], now_flagged: list[int]) -> None:
        from webmail.mailbox.models import MessageSummary

        rows = MessageSummary.objects.filter(folder_id=folder_id)
        if rows.count() != n + 10:
            raise BenchError(f"after the incremental sync the cache has {rows.count()} rows, not {n + 10}")
        wrong = rows.filter(uid__in=was_flagged, flagged=True).count()
        wrong += rows.filter(uid__in=now_flagged, flagged=False).count()
        if wrong:
            raise BenchError(f"after the incremental sync {wrong} of 100 changed flags are stale in the cache")

    def examine_floor(self, n: int, name: str, floor: dict[str, Any]) -> None:
        # The same kind of changes again, then plain imapclient: what any client's first SELECT
        # after another client's changes costs (Dovecot re-reads a maildir folder then).
        self.other_client_changes(name, n, n + 10)
        examine = self.child(floor | {"what": "examine"})
        self.row(
            f"[{n}]   FLOOR imapclient connect+login+EXAMINE after the same kind of changes",
            f"{examine['total'] * 1000:.0f} ms (EXAMINE alone {examine['select'] * 1000:.0f} ms)",
        )

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

    def warm_list(self, n: int, mix: list[tuple[str, str]]) -> list[int]:
        """The request mix, timed by kind, and gunicorn's CPU for it; returns the gunicorn workers' pids."""
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
        return workers

    def empty_page(self, n: int, workers: list[int]) -> None:
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

    # -- --profile ---------------------------------------------------------------------------

    def profile(self, n: int, folder_id: int, mix: list[tuple[str, str]]) -> None:
        """cProfile of the list view (in this process, Django's test client) and of a full sync (a child)."""
        out = Path(self.args.profile_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.profile_views(n, folder_id, mix, out)
        sync = self.child({"op": "sync", "folder_id": folder_id, "reset": True, "profile": str(out / f"sync-{n}.prof")})
        (out / f"sync-{n}.txt").write_text(sync["profile"])
        print(f"\n--- cProfile, full sync_folder of the {n} folder\n{sync['profile']}", flush=True)
        self.other_client_changes(f"Bench{n}", n, n + 20)
        incremental = self.child({"op": "sync", "folder_id": folder_id, "profile": str(out / f"incr-{n}.prof")})
        (out / f"incr-{n}.txt").write_text(incremental["profile"])
        print(f"\n--- cProfile, incremental sync_folder of the {n} folder\n{incremental['profile']}", flush=True)

    def profile_views(self, n: int, folder_id: int, mix: list[tuple[str, str]], out: Path) -> None:
        """60 warm list GETs, then the cold first page, through Django's test client in this process."""
        from django.test import Client

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
    args = parser.parse_args()
    return harness.run_bench(lambda tmp: Bench(args, tmp), prefix="webmail-bench-mailbox-")


if __name__ == "__main__":
    sys.exit(main())
