"""The mailbox bench's child process: the imapclient floors and webmail's own sync, each in a fresh process.

Run as ``bench/mailbox.py --child SPEC`` (SPEC: JSON with "op": "floor" or "sync"); answers through
:func:`bench.harness.child_reply`, so that the peak RSS it reports is the child's own.
"""

from __future__ import annotations

import cProfile
import ssl
import time
from typing import Any

from bench.harness import child_reply, peak_rss_mib, profile_text

ADDRESS, PASSWORD = "bench@example.test", "bench-imap-password-not-a-secret"
FETCH_CHUNK = 2000  # what webmail.mailbox.sync fetches per command, used for the floors too


def child_floor(spec: dict[str, Any]) -> dict[str, Any]:
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
    from webmail.mailbox.models import Folder, MessageSummary

    MessageSummary.objects.filter(folder_id=folder_id).delete()
    Folder.objects.filter(pk=folder_id).update(
        uidvalidity=None, uidnext=None, highestmodseq=None, backfill_below=None, synced_at=None, total=0, unread=0
    )


def child_sync(spec: dict[str, Any]) -> dict[str, Any]:
    """webmail's own sync of one folder, from an empty cache (reset) or incrementally, timed (and profiled)."""
    import django

    django.setup()
    from webmail.mailbox import sync
    from webmail.mailbox.models import Folder
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


def child_main(spec: dict[str, Any]) -> int:
    """The child's whole life: one floor or one sync, then its answer on stdout."""
    return child_reply(child_floor(spec) if spec["op"] == "floor" else child_sync(spec))
