"""The mailbox as the views and tasks use it: the envelope cache, kept honest by IMAP.

The server is the truth. A change (flags, moves, deletions, folders) is made on IMAP first and
written to the cache only once the server said yes, so the cache never claims what the server
did not do. Reading a list never waits for the server unless the folder was never synced; a
sync task brings the cache up to date behind the page.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import MailAccount
from webmail.mailbox import sync
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.protocol import imap
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

# The reading pane, its body frame, attachments and inline images each need the raw message;
# it is kept for a while so that one message is fetched once, not once per request. One larger
# than settings.WEBMAIL_CACHE_MAX_ENTRY_BYTES is not kept.
RAW_CACHE_SECONDS = 600
# Search results: the newest this many matches per folder.
SEARCH_LIMIT = 2000
# A user counts as active (and their mail is synced in the background) this long after a request.
ACTIVE_WINDOW = timedelta(minutes=10)
# The beat's sync of an active account fetches at most this many chunks of older mail per folder
# and run, so that one huge mailbox does not hold a worker; the next run goes on.
BEAT_BACKFILL_CHUNKS = 2

SPECIAL_ORDER = [
    SpecialUse.INBOX,
    SpecialUse.DRAFTS,
    SpecialUse.SENT,
    SpecialUse.JUNK,
    SpecialUse.TRASH,
    SpecialUse.ARCHIVE,
]
FLAG_ACTIONS = {
    "read": ("\\Seen", True, {"seen": True}),
    "unread": ("\\Seen", False, {"seen": False}),
    "flag": ("\\Flagged", True, {"flagged": True}),
    "unflag": ("\\Flagged", False, {"flagged": False}),
}
MOVE_ACTIONS = {"move", "delete", "junk", "notjunk", "archive"}
ACTIONS = set(FLAG_ACTIONS) | MOVE_ACTIONS


class ActionRefused(Exception):
    """An action that cannot be done here (no Trash folder, a bad target): the message says why."""


# -- folders ----------------------------------------------------------------------------------


def sorted_folders(folders) -> list[Folder]:
    """INBOX, Drafts, Sent, Junk, Trash, Archive, then the others as a tree, alphabetically.

    Each folder gets ``depth`` (for indentation) and ``leaf`` (its last name component).
    """

    def parts(folder: Folder) -> list[str]:
        return folder.name.split(folder.delimiter) if folder.delimiter else [folder.name]

    def key(folder: Folder):
        if folder.special_use in SPECIAL_ORDER:
            return (0, SPECIAL_ORDER.index(SpecialUse(folder.special_use)), [folder.name.casefold()])
        return (1, 0, [part.casefold() for part in parts(folder)])

    ordered = sorted(folders, key=key)
    for folder in ordered:
        names = parts(folder)
        folder.leaf = names[-1] or folder.name
        folder.depth = 0 if folder.special_use in SPECIAL_ORDER else len(names) - 1
    return ordered


def special_folder(account: MailAccount, use: str) -> Folder | None:
    return Folder.objects.filter(account=account, special_use=use, selectable=True).order_by("name").first()


def refresh_folder_list(account: MailAccount) -> list[Folder]:
    with imap.session(account) as client:
        return sync.sync_folder_list(client, account)


def folder_name_problem(name: str, delimiter: str) -> str | None:
    """Why a new folder name cannot be used, in words for the user; None when it can."""
    if not name.strip():
        return _("Enter a folder name.")
    if len(name) > 200:
        return _("That name is too long.")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return _("A folder name cannot contain line breaks or other control characters.")
    if delimiter and delimiter in name:
        return _("A folder name cannot contain “%(delimiter)s”; choose a parent folder instead.") % {
            "delimiter": delimiter
        }
    if "%" in name or "*" in name:
        # Translators: xgettext:no-python-format (the % is a character here, not a placeholder)
        return _("A folder name cannot contain % or *.")
    return None


def full_name(name: str, parent: Folder | None) -> str:
    return f"{parent.name}{parent.delimiter}{name}" if parent is not None and parent.delimiter else name


def create_folder(account: MailAccount, name: str, parent: Folder | None) -> None:
    with imap.session(account) as client:
        imap.create_folder(client, full_name(name, parent))
        sync.sync_folder_list(client, account)


def renamed(folder: Folder, new_leaf: str) -> str:
    """The full name ``folder`` gets when its last component becomes ``new_leaf``."""
    prefix = folder.name.rpartition(folder.delimiter)[0] if folder.delimiter else ""
    return f"{prefix}{folder.delimiter}{new_leaf}" if prefix else new_leaf


def rename_folder(folder: Folder, new_leaf: str) -> None:
    """Rename in place (the parent stays); the cache follows, children included."""
    account, old, new = folder.account, folder.name, renamed(folder, new_leaf)
    with imap.session(account) as client:
        imap.rename_folder(client, old, new)
        # Keep the cached messages: the rows follow the new names before LIST is mirrored.
        children = Folder.objects.filter(account=account, name__startswith=f"{old}{folder.delimiter}")
        for child in children if folder.delimiter else ():
            child.name = new + child.name[len(old) :]
            child.save(update_fields=["name"])
        folder.name = new
        folder.save(update_fields=["name"])
        sync.sync_folder_list(client, account)


def delete_folder(folder: Folder) -> None:
    with imap.session(folder.account) as client:
        imap.delete_folder(client, folder.name)
        sync.sync_folder_list(client, folder.account)


# -- syncing ----------------------------------------------------------------------------------


def head_sync(folder: Folder) -> Folder:
    """The first page of a folder never synced: the newest messages only, while the user waits."""
    with imap.session(folder.account) as client:
        return sync.sync_folder(client, folder, backfill_chunks=0)


def refresh_folder(folder: Folder, *, backfill_chunks: int | None = None) -> None:
    """Sync one folder; a failure is kept on the folder for the page to show."""
    try:
        with imap.session(folder.account) as client:
            sync.sync_folder(client, folder, backfill_chunks=backfill_chunks)
    except MailServerError as exc:
        log.info("sync of folder %s failed: %s", folder.pk, exc)
        Folder.objects.filter(pk=folder.pk).update(sync_error=str(exc)[:500])


def refresh_account(account: MailAccount, *, backfill_chunks: int | None = BEAT_BACKFILL_CHUNKS) -> None:
    """The folder list and every selectable folder, in one IMAP session."""
    current: Folder | None = None
    try:
        with imap.session(account) as client:
            for folder in sync.sync_folder_list(client, account):
                if folder.selectable:
                    current = folder
                    sync.sync_folder(client, folder, backfill_chunks=backfill_chunks)
    except MailServerError as exc:
        log.info("sync of account %s failed: %s", account.pk, exc)
        if current is not None:
            Folder.objects.filter(pk=current.pk).update(sync_error=str(exc)[:500])


def active_account_ids(window: timedelta = ACTIVE_WINDOW) -> list:
    """Accounts of users who made a request within ``window``.

    SessionActivityMiddleware pushes a session's expiry forward as its user comes and goes, so
    a session expiring later than (now + idle timeout - window) was used within the window.
    A user who merely signed in once long ago (``last_login``) is not active; one signed in
    all day is. The session rows of a small team are few enough to decode.
    """
    threshold = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE) - window
    user_ids = set()
    for session in Session.objects.filter(expire_date__gte=threshold).iterator():
        user_id = session.get_decoded().get(SESSION_KEY)
        if user_id:
            user_ids.add(user_id)
    return list(MailAccount.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))


def recount(folder: Folder) -> None:
    counts = sync.message_counts(folder)
    folder.total, folder.unread = counts["total"], counts["unread"]
    Folder.objects.filter(pk=folder.pk).update(total=folder.total, unread=folder.unread)


# -- one message ------------------------------------------------------------------------------


def _raw_key(folder: Folder, uid: int) -> str:
    return f"webmail:raw:{folder.account_id}:{folder.pk}:{folder.uidvalidity}:{uid}"


def _remember(folder: Folder, uid: int, raw: bytes | None) -> None:
    # Without a UIDVALIDITY the UID could mean another message after the first sync.
    if raw is not None and folder.uidvalidity is not None and len(raw) <= settings.WEBMAIL_CACHE_MAX_ENTRY_BYTES:
        cache.set(_raw_key(folder, uid), raw, RAW_CACHE_SECONDS)


def cached_raw(folder: Folder, uid: int) -> bytes | None:
    """The message from the raw-message cache, or None when it is not there."""
    return cache.get(_raw_key(folder, uid))


def load_raw(folder: Folder, uid: int) -> bytes | None:
    """The whole message (cached for a while), or None when the server no longer has it."""
    raw = cache.get(_raw_key(folder, uid))
    if raw is None:
        with imap.session(folder.account) as client:
            raw = imap.fetch_raw(client, folder.name, uid)
        _remember(folder, uid, raw)
    return raw


def open_message(folder: Folder, uid: int, summary: MessageSummary | None) -> bytes | None:
    """The raw message for the reading pane, marked \\Seen on the server and then in the cache."""
    raw = cache.get(_raw_key(folder, uid))
    needs_seen = summary is None or not summary.seen
    if raw is not None and not needs_seen:
        return raw
    with imap.session(folder.account) as client:
        if raw is None:
            raw = imap.fetch_raw(client, folder.name, uid)
            _remember(folder, uid, raw)
        if raw is not None and needs_seen:
            imap.set_flags(client, folder.name, [uid], ["\\Seen"])
    if raw is not None and needs_seen:
        folder.messages.filter(uid=uid).update(seen=True)
        if summary is not None:
            summary.seen = True
        recount(folder)
    return raw


def mark_thread_seen(messages: list[MessageSummary]) -> None:
    """\\Seen for the unread messages of a conversation, folder by folder, in one session."""
    unread: dict[int, list[MessageSummary]] = {}
    for message in messages:
        if not message.seen:
            unread.setdefault(message.folder_id, []).append(message)
    if not unread:
        return
    folders = {m.folder_id: m.folder for m in messages}
    account = next(iter(folders.values())).account
    with imap.session(account) as client:
        for folder_id, rows in unread.items():
            imap.set_flags(client, folders[folder_id].name, [m.uid for m in rows], ["\\Seen"])
            MessageSummary.objects.filter(pk__in=[m.pk for m in rows]).update(seen=True)
            for row in rows:
                row.seen = True
            recount(folders[folder_id])


# -- actions on several messages --------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    count: int
    target: Folder | None = None


def move_target(folder: Folder, action: str, target_id: int | None) -> Folder | None:
    """Where a move-like action sends messages; None means they are deleted for good."""
    account = folder.account
    if action == "move":
        target = (
            Folder.objects.filter(account=account, pk=target_id, selectable=True).first()
            if target_id is not None
            else None
        )
        if target is None:
            raise ActionRefused(_("Choose a folder to move the messages to."))
    elif action == "delete":
        if folder.special_use == SpecialUse.TRASH:
            return None
        target = special_folder(account, SpecialUse.TRASH)
        if target is None:
            raise ActionRefused(_("There is no Trash folder on the server."))
    elif action == "junk":
        target = special_folder(account, SpecialUse.JUNK)
        if target is None:
            raise ActionRefused(_("There is no Junk folder on the server."))
    elif action == "archive":
        target = special_folder(account, SpecialUse.ARCHIVE)
        if target is None:
            raise ActionRefused(_("There is no Archive folder on the server."))
    else:  # notjunk
        target = (
            special_folder(account, SpecialUse.INBOX)
            or Folder.objects.filter(account=account, name__iexact="INBOX").first()
        )
        if target is None:
            raise ActionRefused(_("There is no Inbox."))
    if target.pk == folder.pk:
        raise ActionRefused(_("The messages are already in %(folder)s.") % {"folder": target.name})
    return target


def apply_action(folder: Folder, action: str, uids: list[int], target_id: int | None = None) -> ActionResult:
    """Do ``action`` on the server, then on the cache. Raises MailServerError or ActionRefused."""
    uids = imap.check_uids(uids)
    if action in FLAG_ACTIONS:
        flag, add, fields = FLAG_ACTIONS[action]
        with imap.session(folder.account) as client:
            imap.set_flags(client, folder.name, uids, [flag], add=add)
        folder.messages.filter(uid__in=uids).update(**fields)
        recount(folder)
        return ActionResult(len(uids))
    target = move_target(folder, action, target_id)
    with imap.session(folder.account) as client:
        if target is None:
            imap.delete_permanently(client, folder.name, uids)
        else:
            imap.move(client, folder.name, uids, target.name)
        folder.messages.filter(uid__in=uids).delete()
        recount(folder)
        if target is not None and target.synced_at is not None:
            # New UIDs only: the moved messages show in the target at once.
            try:
                with imap.translate_errors():
                    sync.sync_folder(client, target, backfill_chunks=0)
            except MailServerError:
                log.info("could not refresh folder %s after a move", target.pk, exc_info=True)
    return ActionResult(len(uids), target)


# -- search -----------------------------------------------------------------------------------


def search(folders: list[Folder], criteria: list) -> QuerySet[MessageSummary]:
    """IMAP SEARCH in each folder, as cached rows (a match not cached yet is not shown)."""
    hits: dict[int, list[int]] = {}
    if folders:
        with imap.session(folders[0].account) as client:
            for folder in folders:
                hits[folder.pk] = imap.search(client, folder.name, criteria)[-SEARCH_LIMIT:]
    condition = Q(pk__in=[])
    for folder_id, uids in hits.items():
        if uids:
            condition |= Q(folder_id=folder_id, uid__in=uids)
    return MessageSummary.objects.filter(condition)
