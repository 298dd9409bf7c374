"""Push bench: another client's changes to a 100,000-message folder, synced over a held connection.

All on 127.0.0.1, all throwaway: tests/servers' Dovecot (IMAPS, its defaults), one folder written straight
into its maildir (bench/mailbox_corpus.py), a temporary SQLite file (or a dropped-and-re-created PostgreSQL
database when DATABASE_URL is set). The folder is synced into the envelope cache once, untimed. Then, as
the mail watcher holds it, one connection keeps the folder selected (EXAMINE with QRESYNC) in IDLE, and per
round another client APPENDs 10 messages and toggles \\Flagged on 100. Timed, per round:

- the held connection's catch-up: ``sync.sync_selected`` (one UID FETCH with CHANGEDSINCE and VANISHED,
  then the 10 new envelopes), from IDLE's end to the cache and counts written and the pages told;
- the same changes synced the way a fresh task does: connect, log in, ``sync.sync_folder`` (SELECT with
  QRESYNC), log out;
- the floor, in the same run: a plain imapclient connect + login + EXAMINE of the folder + logout;
- Dovecot's own delay: the other client's last OK until IDLE reports the change.

    .venv/bin/python bench/push.py [--size 100000] [--rounds 10] [--timeout 900]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import BenchError, p50_p95, quantiles, verdict  # noqa: E402
from bench.mailbox import ENV  # noqa: E402
from bench.mailbox_child import ADDRESS, PASSWORD  # noqa: E402
from bench.mailbox_setup import MailboxSetup  # noqa: E402

FOLDER = "Big"


class PushBench(MailboxSetup):
    def run(self) -> None:
        database = self.prepare_environment(ENV, "webmail_bench_push")
        self.start_dovecot()
        import django

        django.setup()
        self.print_header(
            f"database: {database}; Dovecot {self.dovecot_version()} (IMAPS, defaults), maildir on /tmp; "
            "in this process: webmail.mailbox.sync over one held connection",
            f"folder of {self.args.size} messages; {self.args.rounds} rounds of +10 new, 100 flag changes",
        )
        self.create_user()
        n = self.args.size
        self.fill(FOLDER, n)
        folder = self.first_sync(n)
        self.load_row("start")
        self.measure(folder, n)
        self.load_row("end")

    def first_sync(self, n: int) -> Any:
        from webmail.mailbox import store, sync
        from webmail.mailbox.models import Folder
        from webmail.protocol import imap

        started = time.perf_counter()
        store.refresh_folder_list(self.account)
        folder = Folder.objects.get(account=self.account, name=FOLDER)
        with imap.session(self.account) as client:
            sync.sync_folder(client, folder)
        if folder.total != n or folder.backfill_below:
            raise BenchError(f"the first sync cached {folder.total} of {n}")
        self.row(f"[{n}] setup: first sync into the cache (untimed phase)", f"{time.perf_counter() - started:.0f} s")
        return folder

    def measure(self, folder: Any, n: int) -> None:
        from webmail.mailbox import sync
        from webmail.protocol import imap

        held_ms, fresh_ms, floor_ms, notice_ms = [], [], [], []
        serial, expected = n + 1, n
        with imap.session(self.account) as held:
            sync.sync_folder(held, folder)  # EXAMINE with QRESYNC: the folder is now held selected
            for _round in range(self.args.rounds):
                held.idle()
                self.other_client_changes(FOLDER, n, serial)
                serial, expected = serial + 10, expected + 10
                changed_at = time.perf_counter()
                self.wait_for_news(held)
                notice_ms.append((time.perf_counter() - changed_at) * 1000)
                started = time.perf_counter()
                held.idle_done()
                sync.sync_selected(held, folder)
                held_ms.append((time.perf_counter() - started) * 1000)
                self.check_cache(folder, expected)

                self.other_client_changes(FOLDER, n, serial)  # the same again, for the fresh way
                serial, expected = serial + 10, expected + 10
                started = time.perf_counter()
                with imap.session(self.account) as fresh:
                    sync.sync_folder(fresh, folder)
                fresh_ms.append((time.perf_counter() - started) * 1000)
                self.check_cache(folder, expected)
                floor_ms.append(self.floor())
                sync.sync_selected(held, folder)  # the held connection sees the fresh round's changes too
                self.left()
        (p50, p95), (floor_p50, floor_p95) = quantiles(held_ms), quantiles(floor_ms)
        self.row("floor: imapclient connect + login + EXAMINE + logout", p50_p95(floor_ms))
        self.row("Dovecot: other client's last OK -> IDLE reports the change", p50_p95(notice_ms))
        self.row("fresh connection: connect + login + sync_folder (SELECT with QRESYNC)", p50_p95(fresh_ms))
        self.row(
            "held connection: sync_selected (no SELECT), to cache + counts written",
            f"{p50_p95(held_ms)} (p50 {verdict(p50, floor_p50)} the floor's p50, "
            f"p95 {verdict(p95, floor_p95)} its p95)",
        )

    def wait_for_news(self, held: Any) -> None:
        from webmail.mailbox.watcher import is_change

        give_up = time.monotonic() + 15
        while time.monotonic() < give_up:
            if any(is_change(response) for response in held.idle_check(timeout=0.2)):
                return
        raise BenchError("IDLE reported nothing within 15 s")

    def check_cache(self, folder: Any, expected: int) -> None:
        folder.refresh_from_db()
        if folder.total != expected:
            raise BenchError(f"the cache holds {folder.total} messages, the folder {expected}")

    def floor(self) -> float:
        started = time.perf_counter()
        with self.imap_client(timeout=60) as client:
            client.login(ADDRESS, PASSWORD)
            client.select_folder(FOLDER, readonly=True)
            client.logout()
        return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    args.dovecot_setting = []
    return harness.run_bench(lambda tmp: PushBench(args, tmp), "webmail-bench-push-")


if __name__ == "__main__":
    sys.exit(main())
