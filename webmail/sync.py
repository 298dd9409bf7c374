"""Keeping the envelope cache in step with the IMAP server.

A folder's first sync fetches the newest messages first, so the first page can show at once,
then fills in older ones in chunks (``backfill_below`` walks downwards). Later syncs fetch only
what changed: UIDs from the cached UIDNEXT up, flags changed since HIGHESTMODSEQ (CONDSTORE) or
all flags when the server lacks it, and, when the counts disagree, the UID list to find what
another client deleted or moved. A new UIDVALIDITY means the cached UIDs mean nothing: start over.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC
from email.header import decode_header, make_header

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from imapclient import IMAPClient

from accounts.models import MailAccount
from outbox import dsn
from webmail import imap
from webmail.models import Folder, MessageSummary, SpecialUse

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
FLAG_FIELDS = ["seen", "flagged", "answered", "draft", "deleted", "modseq"]
_HEADER_KEY = b"BODY[HEADER.FIELDS (REFERENCES CONTENT-TYPE)]"
_SPECIAL = {
    b"\\Sent": SpecialUse.SENT,
    b"\\Drafts": SpecialUse.DRAFTS,
    b"\\Junk": SpecialUse.JUNK,
    b"\\Trash": SpecialUse.TRASH,
    b"\\Archive": SpecialUse.ARCHIVE,
}
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rif|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)


# -- decoding what the server sends ----------------------------------------------------------


def text(value: bytes | str | None) -> str:
    """Header bytes as a person reads them: RFC 2047 decoded, 8-bit tolerated, never raising."""
    if value is None:
        return ""
    if isinstance(value, bytes) and value.isascii() and b"=?" not in value:
        return " ".join(value.decode("ascii").split())  # the common case, without the decoder
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if isinstance(value, bytes) and "\ufffd" in raw:
        raw = value.decode("latin-1")
    try:
        decoded = str(make_header(decode_header(raw)))
    except (LookupError, UnicodeError, ValueError):  # unknown charset, broken encoded word
        decoded = raw
    return " ".join(decoded.split())


def _address(address) -> tuple[str, str]:
    mailbox = text(address.mailbox)
    host = text(address.host)
    return text(address.name), f"{mailbox}@{host}" if host else mailbox


def _addresses(addresses) -> str:
    shown = []
    for address in addresses or ():
        if address.mailbox is None:  # group syntax markers
            continue
        name, addr = _address(address)
        shown.append(f"{name} <{addr}>" if name else addr)
    return ", ".join(shown)


def normalize_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject).strip().lower()


def thread_key(message_id: str, in_reply_to: str, references: str, subject: str) -> str:
    """The conversation a message belongs to: the root of its References chain, else its
    parent, else itself; a message with no ids at all groups by its normalized subject."""
    ids = re.findall(r"<[^<>\s]+>", references)
    root = ids[0] if ids else (re.findall(r"<[^<>\s]+>", in_reply_to) or [""])[0] or message_id
    return (root or f"subject:{normalize_subject(subject)}")[:255]


def summary_fields(data: dict) -> dict:
    envelope = data.get(b"ENVELOPE")
    headers = data.get(_HEADER_KEY, b"") or b""
    references, content_type = _header_fields(headers)
    flags = {f.lower() for f in data.get(b"FLAGS", ())}
    fields = {
        "modseq": (data.get(b"MODSEQ") or (None,))[0],
        "seen": b"\\seen" in flags,
        "flagged": b"\\flagged" in flags,
        "answered": b"\\answered" in flags,
        "draft": b"\\draft" in flags,
        "deleted": b"\\deleted" in flags,
        "size": data.get(b"RFC822.SIZE", 0) or 0,
        "references": references[:10000],
        "has_attachments": content_type.startswith("multipart/mixed"),
        "is_report": dsn.is_report(content_type),
    }
    if envelope is not None:
        from_name, from_address = _address(envelope.from_[0]) if envelope.from_ else ("", "")
        date = envelope.date
        if date is not None and timezone.is_naive(date):
            date = date.replace(tzinfo=UTC)
        fields.update(
            from_name=from_name[:255],
            from_address=from_address[:320],
            to=_addresses(envelope.to),
            cc=_addresses(envelope.cc),
            subject=text(envelope.subject)[:998],
            date=date,
            message_id=text(envelope.message_id)[:998],
            in_reply_to=text(envelope.in_reply_to)[:998],
        )
    fields["thread_key"] = thread_key(
        fields.get("message_id", ""), fields.get("in_reply_to", ""), references, fields.get("subject", "")
    )
    return fields


def _header_fields(raw: bytes) -> tuple[str, str]:
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", raw)
    references = content_type = ""
    for line in unfolded.split(b"\n"):
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"references":
            references = text(value)
        elif name.strip().lower() == b"content-type":
            content_type = text(value).lower()
    return references, content_type


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
    status = client.select_folder(folder.name, readonly=True)
    uidvalidity = status.get(b"UIDVALIDITY")
    uidnext = status.get(b"UIDNEXT")
    exists = status.get(b"EXISTS", 0)
    highestmodseq = status.get(b"HIGHESTMODSEQ") if condstore else None

    if folder.uidvalidity != uidvalidity:
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
    else:
        _new_messages(client, folder, uidnext)
        _changed_flags(client, folder, condstore)
        _vanished(client, folder, exists)
    if folder.backfill_below:
        _backfill(client, folder, backfill_chunks)

    folder.uidnext = uidnext
    folder.highestmodseq = highestmodseq
    folder.synced_at = timezone.now()
    folder.sync_error = ""
    counts = folder.messages.aggregate(total=Count("id"), unread=Count("id", filter=Q(seen=False)))
    folder.total, folder.unread = counts["total"], counts["unread"]
    folder.save()
    return folder


def _first_sync(client: IMAPClient, folder: Folder, exists: int, uidnext: int | None) -> None:
    if not exists:
        folder.backfill_below = None
        return
    # The newest HEAD_SIZE by sequence number: the first page, before anything else.
    client.use_uid = False
    try:
        first = max(1, exists - HEAD_SIZE + 1)
        fetched = client.fetch(list(range(first, exists + 1)), ENVELOPE_ITEMS)
    finally:
        client.use_uid = True
    _store(folder, {data[b"UID"]: data for data in fetched.values()}, client)
    lowest = min((data[b"UID"] for data in fetched.values()), default=None)
    folder.backfill_below = lowest if first > 1 else None
    folder.synced_at = timezone.now()


def _backfill(client: IMAPClient, folder: Folder, chunks: int | None) -> None:
    # One UID SEARCH, then chunks from the top down, each committed so progress survives a drop.
    if chunks == 0:
        return  # the first page only: the search would be wasted
    below = folder.backfill_below
    uids = sorted((uid for uid in client.search(["ALL"]) if uid < below), reverse=True)
    done = 0
    while uids and (chunks is None or done < chunks):
        batch, uids = uids[:CHUNK], uids[CHUNK:]
        _store(folder, client.fetch(batch, ENVELOPE_ITEMS), client)
        folder.backfill_below = min(batch) if uids else None
        folder.save(update_fields=["backfill_below"])
        done += 1
    if not uids:
        folder.backfill_below = None


def _new_messages(client: IMAPClient, folder: Folder, uidnext: int | None) -> None:
    if folder.uidnext and uidnext and uidnext > folder.uidnext:
        # "n:*" always matches the highest UID, even one below n: keep only the new ones.
        new = [uid for uid in client.search(["UID", f"{folder.uidnext}:*"]) if uid >= folder.uidnext]
        for batch in _chunks(new):
            _store(folder, client.fetch(batch, ENVELOPE_ITEMS), client)


def _changed_flags(client: IMAPClient, folder: Folder, condstore: bool) -> None:
    if condstore and folder.highestmodseq:
        # New messages have a new MODSEQ too, but were just fetched whole.
        below = folder.uidnext or 0
        candidates = [uid for uid in client.search(["MODSEQ", str(folder.highestmodseq + 1)]) if uid < below]
    else:
        candidates = list(folder.messages.values_list("uid", flat=True))
    updated = []
    for batch in _chunks(candidates):
        changed = client.fetch(batch, [b"FLAGS"] + ([b"MODSEQ"] if condstore else []))
        rows = {m.uid: m for m in folder.messages.filter(uid__in=list(changed))}
        for uid, data in changed.items():
            row = rows.get(uid)
            if row is None:
                continue
            fields = summary_fields({b"FLAGS": data.get(b"FLAGS", ()), b"MODSEQ": data.get(b"MODSEQ")})
            for name in FLAG_FIELDS:
                setattr(row, name, fields[name])
            updated.append(row)
    # One UPDATE per combination of flags, rather than bulk_update's CASE per row and field.
    groups: dict[tuple, list[int]] = {}
    for row in updated:
        groups.setdefault(tuple(getattr(row, name) for name in FLAG_FIELDS if name != "modseq"), []).append(row.pk)
    names = [name for name in FLAG_FIELDS if name != "modseq"]
    for values, ids in groups.items():
        MessageSummary.objects.filter(pk__in=ids).update(**dict(zip(names, values, strict=True)))


def _chunks(uids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


def _vanished(client: IMAPClient, folder: Folder, exists: int) -> None:
    cached = folder.messages.count()
    if folder.backfill_below:
        return  # not everything is cached yet; the backfill will not bring back deleted mail
    if cached == exists:
        return
    on_server = set(client.search(["ALL"]))
    gone = set(folder.messages.values_list("uid", flat=True)) - on_server
    if gone:
        folder.messages.filter(uid__in=list(gone)).delete()


def _store(folder: Folder, fetched: dict, client: IMAPClient | None = None) -> None:
    rows, reports = [], []
    for uid, data in fetched.items():
        fields = summary_fields(data)
        if fields.pop("is_report"):
            reports.append(uid)
        rows.append(MessageSummary(folder=folder, uid=uid, **fields))
    MessageSummary.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["folder", "uid"],
        update_fields=[f.name for f in MessageSummary._meta.concrete_fields if f.name not in ("id", "folder", "uid")],
    )
    if reports and client is not None:
        _apply_delivery_reports(client, folder, reports)


def _apply_delivery_reports(client: IMAPClient, folder: Folder, uids: list[int]) -> None:
    """Bounces and delay reports that arrive update the outgoing message they are about."""
    for batch in _chunks(uids, 50):
        for uid, data in client.fetch(batch, [b"BODY.PEEK[]"]).items():
            report = dsn.parse(data.get(b"BODY[]") or b"")
            if report is not None:
                changed = dsn.apply(folder.account_id, report)
                log.info("delivery report %s in %s updated %d recipient(s)", uid, folder.name, changed)


# -- entry points -----------------------------------------------------------------------------


def sync_account(account: MailAccount, folder_names: Iterable[str] | None = None, **options) -> list[Folder]:
    with imap.logged_in(account) as client:
        folders = sync_folder_list(client, account)
        wanted = set(folder_names) if folder_names is not None else None
        synced = []
        for folder in folders:
            if not folder.selectable or (wanted is not None and folder.name not in wanted):
                continue
            synced.append(sync_folder(client, folder, **options))
        return synced
