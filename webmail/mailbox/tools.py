"""The mailbox's small tools: a whole folder emptied or marked read on the server, and a
message's source read in slices (the top of it for the source page, all of it for a download).

As with the bulk actions (``store.apply_action``), the server goes first and the cache follows
the same way: rows removed or marked, then the folder recounted. Whole-folder actions work on
every message the server has, however many; the commands go in batches of UIDs
(``imap.delete_permanently`` and ``imap.set_flags``), and only the UIDs found by the search are
touched, so mail arriving meanwhile is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from webmail.mailbox import store
from webmail.mailbox.models import Folder, SpecialUse
from webmail.protocol import imap, imap_slices
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

EMPTIED = (SpecialUse.TRASH, SpecialUse.JUNK)
# The source page shows this much of a message; the download has all of it.
SOURCE_BYTES = 1024 * 1024
# A download is read from the server this much at a time.
SLICE_BYTES = 1024 * 1024


def can_empty(folder: Folder) -> bool:
    return folder.selectable and folder.special_use in EMPTIED


def empty_folder(folder: Folder) -> int:
    """Delete every message of a Trash or Junk folder for good (UID EXPUNGE); how many."""
    if not can_empty(folder):
        raise store.ActionRefused(_("Only the Trash and Junk folders can be emptied."))
    with imap.session(folder.account) as client:
        uids = imap.search(client, folder.name, ["ALL"])
        imap.delete_permanently(client, folder.name, uids)
    if uids:
        # Every cached row up to the last UID found is gone: the search saw them all.
        folder.messages.filter(uid__lte=uids[-1]).delete()
    store.recount(folder)
    return len(uids)


def mark_folder_read(folder: Folder) -> int:
    """\\Seen on every unread message of the folder, on the server; how many were unread."""
    with imap.session(folder.account) as client:
        uids = imap.search(client, folder.name, ["UNSEEN"])
        imap.set_flags(client, folder.name, uids, ["\\Seen"])
    if uids:
        # A cached unread row up to the last UID found was either found (now read) or read already.
        folder.messages.filter(uid__lte=uids[-1], seen=False).update(seen=True)
    store.recount(folder)
    return len(uids)


# -- a message's source ---------------------------------------------------------------------


def source_head(folder: Folder, uid: int, limit: int = SOURCE_BYTES) -> tuple[bytes, int] | None:
    """The first ``limit`` octets of the message and its whole size; None when it is gone.

    A message the reading pane fetched recently comes from the raw-message cache."""
    raw = store.cached_raw(folder, uid)
    if raw is not None:
        return raw[:limit], len(raw)
    with imap.session(folder.account) as client:
        size = imap_slices.open_message(client, folder.name, uid)
        if size is None:
            return None
        return imap_slices.read_slice(client, uid, 0, limit) if size else b"", size


class SourceReader:
    """The whole message, slice by slice over one IMAP session: ``open()`` (False when the
    message is gone), then ``slices()``, which closes the session when it ends or is closed."""

    def __init__(self, folder: Folder, uid: int, slice_bytes: int = SLICE_BYTES) -> None:
        self.folder, self.uid, self.slice_bytes = folder, uid, slice_bytes
        self.raw: bytes | None = store.cached_raw(folder, uid)
        self.size = len(self.raw) if self.raw is not None else 0
        self._stack = ExitStack()
        self._client = None

    def open(self) -> bool:
        if self.raw is not None:
            return True
        try:
            self._client = self._stack.enter_context(imap.session(self.folder.account))
            size = imap_slices.open_message(self._client, self.folder.name, self.uid)
        except BaseException:
            self._stack.close()
            raise
        if size is None:
            self._stack.close()
            return False
        self.size = size
        return True

    def next_slice(self, start: int) -> bytes:
        if self.raw is not None:
            return self.raw[start : start + self.slice_bytes]
        if start >= self.size:
            return b""
        return imap_slices.read_slice(self._client, self.uid, start, self.slice_bytes)

    def close(self) -> None:
        self._stack.close()

    async def aslices(self) -> AsyncIterator[bytes]:
        """``slices()`` for an ASGI server: each slice read in a worker thread."""
        start = 0
        read = sync_to_async(self.next_slice, thread_sensitive=False)
        try:
            while chunk := await read(start):
                start += len(chunk)
                yield chunk
        except MailServerError as exc:
            log.info("download of message %s in folder %s broke off: %s", self.uid, self.folder.pk, exc)
        finally:
            await sync_to_async(self.close, thread_sensitive=False)()

    def slices(self) -> Iterator[bytes]:
        start = 0
        try:
            while chunk := self.next_slice(start):
                start += len(chunk)
                yield chunk
        except MailServerError as exc:
            # The headers are gone: the download ends short, which the browser reports.
            log.info("download of message %s in folder %s broke off: %s", self.uid, self.folder.pk, exc)
        finally:
            self.close()
