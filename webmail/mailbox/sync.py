"""Keeping the envelope cache in step with the IMAP server.

A folder's first sync fetches the newest messages first, so the first page can show at once,
then fills in older ones in chunks (``backfill_below`` walks downwards). Later syncs fetch only
what changed: UIDs from the cached UIDNEXT up, and flags changed and messages expunged since
HIGHESTMODSEQ. With QRESYNC the SELECT itself reports both (VANISHED (EARLIER) and FETCH); with
CONDSTORE alone a UID FETCH (CHANGEDSINCE) brings the flags; without either, every flag is read
again. Whenever the cached count then disagrees with the server's, the UID list shows what another
client deleted or moved. A new UIDVALIDITY means the cached UIDs mean nothing: start over.

Why this module is long: it is one algorithm. The first sync, the backfill, the three ways of
finding changes and the reconciliation of expunged UIDs share the folder's cached state
(UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, backfill_below) and are only correct together; the parts
that stand alone live elsewhere (rows from envelopes: ``envelopes``; the protocol:
``webmail.protocol.imap`` and ``resync``).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from accounts.models import MailAccount
from accounts.signals import delivery_report_found
from webmail.mailbox import correspondents, envelopes, live
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.protocol import dsn, imap, resync

log = logging.getLogger(__name__)

HEAD_SIZE = 50
CHUNK = 2000
ENVELOPE_ITEMS = [
    b"UID",
    b"FLAGS",
    b"RFC822.SIZE",
    b"ENVELOPE",
    b"BODY.PEEK[HEADER.FIELDS (REFERENCES CONTENT-TYPE)]",
]
# RFC 8970: the server's own preview of the text (Dovecot keeps it in its cache), where offered.
# Made for the newest page and for new mail; older mail filled in by the backfill gets it LAZY
# (only where the server has it already): making one reads the message's body, which made a
# first sync of 10,000 messages a fifth slower.
PREVIEW_ITEM = b"PREVIEW"
LAZY_PREVIEW = b"PREVIEW (LAZY)"
FLAG_NAMES = ["seen", "flagged", "answered", "draft", "deleted"]
_SYSTEM_FLAGS = (b"\\seen", b"\\flagged", b"\\answered", b"\\draft", b"\\deleted")
_SPECIAL = {
    b"\\Sent": SpecialUse.SENT,
    b"\\Drafts": SpecialUse.DRAFTS,
    b"\\Junk": SpecialUse.JUNK,
    b"\\Trash": SpecialUse.TRASH,
    b"\\Archive": SpecialUse.ARCHIVE,
}


# -- folders ----------------------------------------------------------------------------------


def sync_folder_list(client: IMAPClient, account: MailAccount) -> list[Folder]:
    """Mirror the server's folder list; folders gone from the server are dropped with their cache."""
    seen = []
    for flags, delimiter, name in client.list_folders():
        flags = set(flags)
        special = (
            SpecialUse.INBOX
            if name.upper() == "INBOX"
            else next((use for flag, use in _SPECIAL.items() if flag in flags), SpecialUse.NONE)
        )
        folder, _created = Folder.objects.update_or_create(
            account=account,
            name=name,
            defaults={
                "delimiter": (delimiter or b"").decode("ascii", "replace"),
                "special_use": special,
                "selectable": b"\\Noselect" not in flags and b"\\NonExistent" not in flags,
            },
        )
        seen.append(folder.pk)
    Folder.objects.filter(account=account).exclude(pk__in=seen).delete()
    return list(Folder.objects.filter(account=account))


# -- one folder -------------------------------------------------------------------------------


def sync_folder(client: IMAPClient, folder: Folder, *, backfill_chunks: int | None = None) -> Folder:
    """Bring one folder's cache up to date. ``backfill_chunks`` bounds the work on older mail
    (None: all of it); what is left is picked up by the next call."""
    condstore = b"CONDSTORE" in client.capabilities()
    status, report = _select(client, folder)
    uidvalidity = status.get(b"UIDVALIDITY")
    uidnext = status.get(b"UIDNEXT")
    exists = status.get(b"EXISTS", 0)
    highestmodseq = status.get(b"HIGHESTMODSEQ") if condstore else None
    if folder.highestmodseq and (highestmodseq is None or highestmodseq < folder.highestmodseq):
        # No MODSEQ any more, or one gone backwards (a restored server): changes since the
        # old one cannot be asked for; every flag is read again.
        folder.highestmodseq, report = None, None

    if folder.uidvalidity != uidvalidity:
        report = None  # the server ignored the QRESYNC parameters
        with transaction.atomic():
            folder.messages.all().delete()
            folder.uidvalidity, folder.uidnext, folder.highestmodseq, folder.backfill_below = (
                uidvalidity,
                None,
                None,
                None,
            )
            folder.synced_at = None
            folder.save()

    if folder.synced_at is None:
        _first_sync(client, folder, exists, uidnext)
        touched = True
    else:
        if report is not None and report.changed is not None:
            touched = _apply_flag_changes(folder, report.changed)
        else:
            touched = _changed_flags(client, folder, condstore, highestmodseq)
        if report is not None and report.vanished:
            touched += _delete_uids(folder, report.vanished)
        touched += _new_messages(client, folder, uidnext)
    if folder.backfill_below:
        _backfill(client, folder, backfill_chunks)
        touched = True

    # Counting a large folder's rows walks its index: not when this sync changed none of them.
    counts = message_counts(folder) if touched else {"total": folder.total, "unread": folder.unread}
    if not folder.backfill_below and counts["total"] != exists:
        # Something was expunged that no report covered: without QRESYNC that is how deletions
        # by another client show; with it, only a race with one (or a server that left one out).
        if report is not None and report.vanished is not None:
            log.info("folder %s: %d cached, %d on the server after QRESYNC", folder.pk, counts["total"], exists)
        _vanished(client, folder)
        counts = message_counts(folder)
    if counts["total"] - folder.total >= STATS_AFTER_ROWS:
        refresh_statistics()  # before the pages read the new rows
    _settle(folder, counts, uidnext, highestmodseq, touched=bool(touched))
    return folder


def sync_selected(client: IMAPClient, folder: Folder, *, backfill_chunks: int | None = None) -> Folder:
    """Bring the cache of the folder this connection holds selected up to date, without
    selecting it again (the watcher's case: IDLE said it changed). One UID FETCH with
    CHANGEDSINCE and VANISHED names the flags changed, the UIDs expunged and the new messages
    (their MODSEQ is above the old one too), whose envelopes are then fetched. Without QRESYNC,
    or for a folder not fully synced yet, it is ``sync_folder``'s job."""
    if not (
        b"QRESYNC" in imap.enabled(client)
        and folder.synced_at is not None
        and folder.highestmodseq
        and folder.uidnext
        and not folder.backfill_below
    ):
        return sync_folder(client, folder, backfill_chunks=backfill_chunks)
    report = resync.changes_since(client, folder.highestmodseq)
    if report.changed is None or report.vanished is None:  # an answer not quite right: the plain way
        return sync_folder(client, folder, backfill_chunks=backfill_chunks)
    new = sorted(uid for uid in report.changed if uid >= folder.uidnext)
    touched = _apply_flag_changes(folder, report.changed) + _delete_uids(folder, report.vanished)
    touched += _fetch_and_store(client, folder, _uid_ranges(new))
    modseqs = [data[b"MODSEQ"][0] for data in report.changed.values() if _is_modseq(data.get(b"MODSEQ"))]
    counts = message_counts(folder) if touched else {"total": folder.total, "unread": folder.unread}
    uidnext = max(folder.uidnext, new[-1] + 1) if new else folder.uidnext
    # Every change after this answer gets a MODSEQ above the highest it reported.
    _settle(folder, counts, uidnext, max([folder.highestmodseq, *modseqs]), touched=bool(touched))
    return folder


def _is_modseq(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 1 and type(value[0]) is int and value[0] > 0


def _settle(folder: Folder, counts: dict, uidnext: int | None, highestmodseq: int | None, *, touched: bool) -> None:
    """Where the sync stopped and the new counts; the user's open pages are told when anything
    changed (live.py)."""
    changed = touched or (folder.total, folder.unread, folder.uidnext) != (counts["total"], counts["unread"], uidnext)
    folder.uidnext = uidnext
    folder.highestmodseq = highestmodseq
    folder.synced_at = timezone.now()
    folder.sync_error = ""
    folder.total, folder.unread = counts["total"], counts["unread"]
    folder.save()
    if changed:
        live.folder_changed(folder, folder.account.user_id)


def _select(client: IMAPClient, folder: Folder) -> tuple[dict, resync.Resync | None]:
    """EXAMINE the folder; with QRESYNC when this session has it and the folder was synced with
    a MODSEQ, so that the server says what changed and what went since (RFC 7162)."""
    if (
        b"QRESYNC" in imap.enabled(client)
        and folder.synced_at is not None
        and folder.uidvalidity
        and folder.highestmodseq
        and folder.uidnext
    ):
        known = (folder.backfill_below or 1, folder.uidnext - 1)
        try:
            report = resync.select_resync(client, folder.name, folder.uidvalidity, folder.highestmodseq, known)
        except IMAPClientAbortError:
            raise
        except (IMAPClientError, imap.UnsafeArgument) as exc:
            log.warning("folder %s: SELECT with QRESYNC failed (%s), selecting without", folder.pk, exc)
        else:
            return report.status, report
    return client.select_folder(folder.name, readonly=True), None


def message_counts(folder: Folder) -> dict:
    """The folder's cached messages and unread ones. Two counts rather than one aggregate: each
    walks an index (the unread one only the unread rows), where the aggregate reads the table."""
    return {"total": folder.messages.count(), "unread": folder.messages.filter(seen=False).count()}


# A sync that cached this many rows at once (a first sync, a whole backfill) refreshes the
# database's statistics of the cache table before it reports the folder synced; smaller growth
# is left to autovacuum.
STATS_AFTER_ROWS = 5000


def refresh_statistics() -> None:
    """Planner statistics of the cache table, now rather than when autovacuum next looks.

    Until then PostgreSQL plans the list's queries for the table as it was (46 ms instead of
    0.5 ms for a page's conversation sizes at 10,000 messages, a sort of the whole folder for a
    page at 100,000); VACUUM also marks the new rows visible to all, so the list can find a deep
    page's first row from the index alone. Only the columns those queries filter and sort on
    are analyzed. SQLite gets its own light-weight ``PRAGMA optimize``.
    """
    table = connection.ops.quote_name(MessageSummary._meta.db_table)
    if connection.vendor == "postgresql":
        # VACUUM cannot run inside a transaction (a test's, say): ANALYZE alone there.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        statement = f"{command} {table} (folder_id, date, uid, thread_key)"
    elif connection.vendor == "sqlite":
        statement = "PRAGMA optimize"
    else:
        return
    try:
        # In a transaction, a savepoint: a refusal must not break the caller's transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError as exc:
        log.warning("statistics of %s not refreshed: %s", table, exc)


def _first_sync(client: IMAPClient, folder: Folder, exists: int, uidnext: int | None) -> None:
    if not exists:
        folder.backfill_below = None
        return
    # The newest HEAD_SIZE by sequence number: the first page, before anything else.
    first = max(1, exists - HEAD_SIZE + 1)
    by_uid = resync.fetch_sequence_range(client, first, exists, envelope_items(client))
    _store(folder, by_uid, client)
    folder.backfill_below = min(by_uid, default=None) if first > 1 else None
    folder.synced_at = timezone.now()


def _backfill(client: IMAPClient, folder: Folder, chunks: int | None) -> None:
    # One UID SEARCH, then chunks from the top down, each committed so progress survives a drop.
    if chunks == 0:
        return  # the first page only: the search would be wasted
    below = folder.backfill_below
    if below <= 1:
        folder.backfill_below = None
        return
    uids = sorted((uid for uid in client.search(["UID", f"1:{below - 1}"]) if uid < below), reverse=True)
    ranges = _uid_ranges(uids)
    todo = ranges if chunks is None else ranges[:chunks]

    def done(low: int, index: int) -> None:
        folder.backfill_below = low if index + 1 < len(ranges) else None
        folder.save(update_fields=["backfill_below"])

    _fetch_and_store(client, folder, todo, done, lazy_preview=True)
    if not ranges:
        folder.backfill_below = None


def _new_messages(client: IMAPClient, folder: Folder, uidnext: int | None) -> int:
    # Up to the UIDNEXT the SELECT reported: what arrived since is for the next sync.
    low, high = folder.uidnext, (uidnext or 0) - 1
    if not low or high < low:
        return 0
    if high - low < 4 * CHUNK:
        ranges = [(start, min(start + CHUNK - 1, high)) for start in range(low, high + 1, CHUNK)]
    else:  # a wide gap of UIDs (another client moved many, say): ask which exist
        ranges = _uid_ranges(sorted(uid for uid in client.search(["UID", f"{low}:{high}"]) if low <= uid <= high))
    return _fetch_and_store(client, folder, ranges)


def envelope_items(client: IMAPClient, *, lazy_preview: bool = False) -> list[bytes]:
    """What a message's row is made of; with its preview where the server offers PREVIEW."""
    if PREVIEW_ITEM not in client.capabilities():
        return ENVELOPE_ITEMS
    return [*ENVELOPE_ITEMS, LAZY_PREVIEW if lazy_preview else PREVIEW_ITEM]


def _uid_ranges(uids: list[int]) -> list[tuple[int, int]]:
    """Sorted UIDs (either way) in CHUNK-sized runs as (lowest, highest): each a short UID FETCH
    range rather than a list of 2000 UIDs, which fetches no other message as the list came
    from a search of all that exist."""
    return [(min(run[0], run[-1]), max(run[0], run[-1])) for run in _chunks(uids, CHUNK)]


def _fetch_and_store(
    client: IMAPClient, folder: Folder, ranges: list[tuple[int, int]], done=None, *, lazy_preview: bool = False
) -> int:
    """Fetch and store the envelopes of each UID range, calling ``done(low, index)`` after each;
    returns how many there were.

    The FETCH of the next range runs in a thread while this one is parsed into rows and
    inserted: the server composes and the socket carries one chunk while Python and the
    database work on the other. The connection is used by one thread at a time: delivery
    reports (rare) wait for the FETCH in flight."""
    stored = 0
    if not ranges:
        return stored
    items = envelope_items(client, lazy_preview=lazy_preview)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-fetch") as pool:

        def fetch(index: int) -> Future:
            return pool.submit(resync.fetch_uid_range, client, *ranges[index], items)

        pending = fetch(0)
        for index, (low, _high) in enumerate(ranges):
            fetched = pending.result()
            pending = fetch(index + 1) if index + 1 < len(ranges) else None
            reports = _store(folder, fetched)
            stored += len(fetched)
            if reports:
                if pending is not None:
                    pending.result()  # the connection is free again
                _apply_delivery_reports(client, folder, reports)
            if done is not None:
                done(low, index)
    return stored


def _changed_flags(client: IMAPClient, folder: Folder, condstore: bool, highestmodseq: int | None) -> int:
    below = folder.uidnext or 0  # new messages are fetched whole, with their flags
    if below <= 1:
        return 0
    if condstore and folder.highestmodseq and highestmodseq:
        if highestmodseq == folder.highestmodseq:
            return 0  # no flag changed: any change would have raised HIGHESTMODSEQ
        changed = resync.fetch_uid_range(
            client, folder.backfill_below or 1, below - 1, [b"UID", b"FLAGS"], changed_since=folder.highestmodseq
        )
        return _apply_flag_changes(folder, changed)
    # Nothing to go by: every cached message's flags, compared with what the cache says.
    cached = {uid: flags for uid, *flags in folder.messages.values_list("uid", *FLAG_NAMES)}
    changed = {}
    for low, high in _uid_ranges(sorted(cached)):
        for uid, data in resync.fetch_uid_range(client, low, high, [b"UID", b"FLAGS"]).items():
            if uid in cached and list(_flag_values(data.get(b"FLAGS", ()))) != cached[uid]:
                changed[uid] = data
    return _apply_flag_changes(folder, changed)


def _flag_values(flags: Iterable) -> tuple[bool, ...]:
    lowered = {flag.lower() for flag in flags if isinstance(flag, bytes)}
    return tuple(flag in lowered for flag in _SYSTEM_FLAGS)


def _apply_flag_changes(folder: Folder, changed: dict[int, dict]) -> int:
    """The flags of cached messages from FETCH responses by UID, one UPDATE per combination of
    flags (rather than bulk_update's CASE per row and field). Returns how many rows changed."""
    below = folder.uidnext or 0  # newer ones were (or are about to be) fetched whole
    groups: dict[tuple[bool, ...], list[int]] = {}
    for uid, data in changed.items():
        if uid < below:
            groups.setdefault(_flag_values(data.get(b"FLAGS", ())), []).append(uid)
    updated = 0
    with transaction.atomic():  # one commit, not one per statement
        for values, uids in groups.items():
            for batch in _chunks(sorted(uids), 900):
                updated += folder.messages.filter(uid__in=batch).update(**dict(zip(FLAG_NAMES, values, strict=True)))
    return updated


def _chunks(uids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


def _vanished(client: IMAPClient, folder: Folder) -> None:
    """What another client expunged, found the plain way: every UID on the server."""
    on_server = set(client.search(["ALL"]))
    gone = set(folder.messages.values_list("uid", flat=True)) - on_server
    for batch in _chunks(sorted(gone), 900):
        folder.messages.filter(uid__in=batch).delete()


def _delete_uids(folder: Folder, ranges: list[tuple[int, int]]) -> int:
    """Drop the cached messages in these UID ranges (a VANISHED report). A report may name
    far more UIDs than were ever cached: a large one is matched against the cache instead of
    being spelt out."""
    if sum(high - low + 1 for low, high in ranges) <= 10 * CHUNK:
        gone = [uid for low, high in ranges for uid in range(low, high + 1)]
    else:
        lows = [low for low, _high in ranges]
        gone = []
        for uid in folder.messages.values_list("uid", flat=True).iterator(chunk_size=CHUNK):
            index = bisect_right(lows, uid) - 1
            if index >= 0 and uid <= ranges[index][1]:
                gone.append(uid)
    with transaction.atomic():
        return sum(folder.messages.filter(uid__in=batch).delete()[0] for batch in _chunks(gone, 900))


def _store(folder: Folder, fetched: dict, client: IMAPClient | None = None) -> list[int]:
    """Insert or update the summaries of fetched messages. Returns the UIDs of delivery reports
    among them, or applies those reports when given the client."""
    rows, reports = [], []
    adapt_date = connection.ops.adapt_datetimefield_value
    for uid, data in fetched.items():
        if not imap.is_uid(uid):
            continue
        fields = envelopes.summary_fields(data)
        if fields.pop("is_report"):
            reports.append(uid)
        fields["date"] = adapt_date(fields.get("date"))
        rows.append((folder.pk, uid, *(fields.get(name, default) for name, default in _ROW_DEFAULTS)))
    _upsert(rows)
    correspondents.record_envelopes(folder, fetched.values())
    if reports and client is not None:
        _apply_delivery_reports(client, folder, reports)
        return []
    return reports


# Every column but the id, in this order: folder, uid, then _ROW_DEFAULTS' names.
_ROW_FIELDS = [field for field in MessageSummary._meta.concrete_fields if field.name not in ("id", "folder", "uid")]
_ROW_DEFAULTS = [(field.name, field.get_default()) for field in _ROW_FIELDS]


def _upsert(rows: list[tuple]) -> None:
    """INSERT ... ON CONFLICT (folder, uid) DO UPDATE, from plain tuples: what bulk_create does,
    without a model instance and a per-field preparation for every row. On PostgreSQL the rows
    go by COPY into a temporary table, then one INSERT ... SELECT: psycopg's COPY writes rows in
    C, where a parameter list of 40,000 values is parsed and adapted in Python (bulk_create and
    multi-row VALUES cost more CPU than parsing the FETCH responses)."""
    if not rows:
        return
    # Every name in these statements is the model's own, quoted; the values go as parameters.
    quote = connection.ops.quote_name
    table = quote(MessageSummary._meta.db_table)
    names = [quote("folder_id"), quote("uid"), *(quote(field.column) for field in _ROW_FIELDS)]
    columns = ", ".join(names)
    on_conflict = f"ON CONFLICT ({names[0]}, {names[1]}) DO UPDATE SET " + ", ".join(
        f"{name} = EXCLUDED.{name}" for name in names[2:]
    )
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Dropped at commit; inside a longer transaction (tests) it is emptied for the next call.
            rows_like = f"SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS webmail_summary_rows ON COMMIT DROP AS {rows_like}")
            with cursor.copy(f"COPY webmail_summary_rows ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM webmail_summary_rows {on_conflict}"  # noqa: S608
            )
            cursor.execute("TRUNCATE webmail_summary_rows")
    else:
        placeholders = ", ".join(["%s"] * len(names))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) {on_conflict}",  # noqa: S608
                rows,
            )


def _apply_delivery_reports(client: IMAPClient, folder: Folder, uids: list[int]) -> None:
    """Bounces and delay reports that arrive update the outgoing message they are about."""
    for batch in _chunks(uids, 50):
        for uid, data in client.fetch(batch, [b"BODY.PEEK[]"]).items():
            report = dsn.parse(data.get(b"BODY[]") or b"")
            if report is not None:
                answers = delivery_report_found.send(
                    sender=MailAccount, account_id=folder.account_id, report=report, where=(folder.name, uid)
                )
                changed = sum(count for _, count in answers if isinstance(count, int))
                log.info("delivery report %s in %s updated %d recipient(s)", uid, folder.name, changed)
