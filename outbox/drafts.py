"""Drafts that are never lost: what a composer holds, saved as it is typed.

A composer page carries a draft id (a fresh UUID, or the draft it opened) and the revision it
last saw. The first save creates the row; every save names the revision it was based on and is
refused when the row has moved on (``StaleRevision``: another tab, or a save that arrived late),
so nothing newer is ever overwritten by something older. The fields are stored as typed:
addresses are checked when the message is sent, never when a half-written one is saved.

Sending queues the message and closes the draft in one transaction; a second press of Send finds
the draft closed and gets the message already queued. Discarding keeps the row for a while so
it can be undone. Either way ``draftcopy`` removes the IMAP copy, and the row once sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Identity, User
from outbox import compose, sending, tasks
from outbox.models import DraftAttachment, DraftState, OutgoingMessage, SavedDraft

log = logging.getLogger(__name__)

# Open drafts per user: far beyond any person's, near enough to stop a script filling the table.
MAX_OPEN_DRAFTS = 1000


class DraftError(Exception):
    """The save was refused; nothing changed. The message is for the person."""

    status = 400


class StaleRevision(DraftError):
    status = 409

    def __init__(self, current: int) -> None:
        super().__init__(_("This draft was changed in another window."))
        self.current = current


class DraftGone(DraftError):
    """Saved once, and gone since: sent and forgotten after its undo window, or purged."""

    status = 410


class LateSave(Exception):
    """An older save of the page that wrote the row last, overtaken by a newer one: nothing to do."""

    def __init__(self, draft: SavedDraft) -> None:
        super().__init__("late save")
        self.draft = draft


@dataclass(frozen=True)
class Page:
    """Which composer page a save comes from (a random token) and its number among that page's saves."""

    token: str = ""
    seq: int = 0


class DraftClosed(DraftError):
    status = 410

    def __init__(self, draft: SavedDraft) -> None:
        text = _("This draft was sent.") if draft.state == DraftState.SENT else _("This draft was discarded.")
        super().__init__(text)
        self.draft = draft


@dataclass
class Fields:
    """What a save writes: the composer's fields as typed (identity and answered message checked)."""

    identity: Identity | None = None
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    html: str = ""
    delivery_receipt: bool = False
    send_at: datetime | None = None
    in_reply_to: str = ""
    references: str = ""
    answers: tuple[int, int] | None = None
    how: str = ""

    def write_to(self, draft: SavedDraft) -> None:
        for item in fields(self):
            if item.name != "answers":
                setattr(draft, item.name, getattr(self, item.name))
        draft.answers_folder_id, draft.answers_uid = self.answers or (None, None)

    @classmethod
    def of(cls, draft: SavedDraft) -> Fields:
        values = {item.name: getattr(draft, item.name) for item in fields(cls) if item.name != "answers"}
        answers = (draft.answers_folder_id, draft.answers_uid) if draft.answers_folder_id else None
        return cls(**values, answers=answers)  # type: ignore[arg-type]


def find(user: User, draft_id: uuid.UUID | str) -> SavedDraft | None:
    """The user's draft with this id, in any state; None for anyone else's."""
    return SavedDraft.objects.filter(pk=draft_id, user=user).select_related("identity").first()


def open_drafts(user: User):
    return SavedDraft.objects.filter(user=user, state=DraftState.OPEN).select_related("identity")


def _mirror_soon(draft: SavedDraft, now: datetime) -> None:
    draft.mirror_due_at = now
    draft.mirror_attempts = 0
    transaction.on_commit(lambda: _publish_mirror(draft.pk))


def _publish_mirror(draft_id: uuid.UUID) -> None:
    tasks.try_publish(tasks.mirror_draft, str(draft_id))


def _locked(user: User, draft_id: uuid.UUID | str, base_revision: int, page: Page, ordered: bool) -> SavedDraft:
    """The row to write, locked; created at the first save. Refuses anyone else's draft (as
    missing), a closed one and a stale revision, unless the revision moved on by saves of this
    same page (``LateSave`` when this one is older than the last of them)."""
    draft = SavedDraft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        if base_revision:  # it had been saved, and is gone: sent and cleaned up meanwhile
            raise DraftGone(_("This draft no longer exists: it was sent or discarded."))
        if open_drafts(user).count() >= MAX_OPEN_DRAFTS:
            raise DraftError(_("You have too many drafts. Send or discard some first."))
        try:
            with transaction.atomic():
                return SavedDraft.objects.create(pk=draft_id, user=user)
        except IntegrityError:  # the same first save twice at once: the other one won
            raise StaleRevision(1) from None
    if draft.user_id != user.pk:
        raise SavedDraft.DoesNotExist
    if draft.state != DraftState.OPEN:
        raise DraftClosed(draft)
    own = bool(page.token) and draft.page_token == page.token
    if own and ordered and page.seq <= draft.page_seq:
        raise LateSave(draft)
    if draft.revision != base_revision and not own:
        raise StaleRevision(draft.revision)
    return draft


def _write(
    user: User,
    draft_id: uuid.UUID | str,
    base_revision: int,
    page: Page,
    change: Callable[[SavedDraft], object],
    ordered: bool = True,
) -> SavedDraft:
    """One change of the draft, as its next revision, under its row lock. ``ordered``: a save of
    the whole composer, which an older one of the same page must not undo; a file added or
    removed is not (it changes only itself)."""
    now = timezone.now()
    with transaction.atomic():
        try:
            draft = _locked(user, draft_id, base_revision, page, ordered)
        except LateSave as late:
            return late.draft
        change(draft)
        if page.token and (draft.page_token != page.token[:64] or (ordered and page.seq > draft.page_seq)):
            draft.page_token, draft.page_seq = page.token[:64], page.seq if ordered else 0
        _bump(draft, now)
        draft.save()
    return draft


def save(user: User, draft_id: uuid.UUID | str, base_revision: int, typed: Fields, page: Page = Page()) -> SavedDraft:
    """Write what the composer holds as the next revision (see the module's docstring)."""
    return _write(user, draft_id, base_revision, page, typed.write_to)


def _bump(draft: SavedDraft, now: datetime) -> None:
    draft.revision += 1
    draft.updated_at = now
    _mirror_soon(draft, now)


def add_attachment(
    user: User, draft_id: uuid.UUID | str, base_revision: int, attachment: compose.Attachment, page: Page = Page()
) -> tuple[SavedDraft, DraftAttachment]:
    """Store one file with the draft (once: a save never carries files), as the next revision."""
    stored: list[DraftAttachment] = []

    def change(draft: SavedDraft) -> None:
        stored.extend(DraftAttachment.objects.bulk_create(_stored(draft, [attachment])))

    draft = _write(user, draft_id, base_revision, page, change, ordered=False)
    return draft, stored[0]


def remove_attachment(
    user: User, draft_id: uuid.UUID | str, base_revision: int, attachment_id: str, page: Page = Page()
) -> SavedDraft:
    def change(draft: SavedDraft) -> None:
        if not DraftAttachment.objects.filter(draft=draft, pk=attachment_id).delete()[0]:
            raise DraftAttachment.DoesNotExist

    return _write(user, draft_id, base_revision, page, change, ordered=False)


def stored_attachments(draft: SavedDraft | None, keep: set[str] | None = None) -> list[compose.Attachment]:
    """The draft's files (those of ``keep``, ids, when given), in the order they were added."""
    if draft is None:
        return []
    return [
        compose.Attachment(filename=a.filename, content_type=a.content_type, data=bytes(a.data))
        for a in draft.attachments.all()
        if keep is None or str(a.pk) in keep
    ]


def attachment_sizes(draft: SavedDraft | None) -> list[int]:
    if draft is None:
        return []
    return list(draft.attachments.values_list("size", flat=True))


def send(
    user: User,
    draft_id: uuid.UUID | str | None,
    message: compose.Draft,
    keep: set[str] | None = None,
    typed: Fields | None = None,
    uploads: list[compose.Attachment] | None = None,
) -> tuple[OutgoingMessage, bool]:
    """Queue ``message`` (with the draft's stored attachments, those of ``keep`` when given) and
    close the draft, in one transaction. Returns the message and whether it is new: pressing
    Send twice, or in two tabs, queues one message, and the second press gets the first one's.

    A composer that was never saved (sent before its first save, or without JavaScript) gets
    its draft row now, from ``typed`` and the files sent with the form (``uploads``), so that
    Undo can bring it back (``undo_send``)."""
    with transaction.atomic():
        draft = _row_to_send(user, draft_id, typed)
        if draft is not None and draft.state == DraftState.SENT and draft.sent_as_id:
            return OutgoingMessage.objects.get(pk=draft.sent_as_id), False
        if draft is not None and draft.state == DraftState.OPEN:
            message.attachments = [*stored_attachments(draft, keep), *message.attachments]
        queued = sending.enqueue(user, message)
        if draft is not None and draft.state == DraftState.OPEN:
            if keep is not None:  # what was not sent does not come back on Undo either
                draft.attachments.exclude(pk__in=keep).delete()
            draft.state = DraftState.SENT
            draft.sent_as = queued
            _bump(draft, timezone.now())
            draft.save()
            DraftAttachment.objects.bulk_create(_stored(draft, uploads or []))
    return queued, True


def _row_to_send(user: User, draft_id: uuid.UUID | str | None, typed: Fields | None) -> SavedDraft | None:
    """The composer's draft, locked; made now from ``typed`` if it was never saved. Two presses of
    Send at once: the second waits for the first's row, then finds it sent."""
    if not draft_id:
        return None
    draft = SavedDraft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None and typed is not None:
        try:
            with transaction.atomic():
                draft = SavedDraft(pk=draft_id, user=user)
                typed.write_to(draft)
                draft.save(force_insert=True)
        except IntegrityError:  # made by the other press meanwhile
            draft = SavedDraft.objects.select_for_update().filter(pk=draft_id).first()
    return draft if draft is not None and draft.user_id == user.pk else None


def _stored(draft: SavedDraft, files: list[compose.Attachment]) -> list[DraftAttachment]:
    return [
        DraftAttachment(
            draft=draft, filename=f.filename[:255], content_type=f.content_type[:255], size=len(f.data), data=f.data
        )
        for f in files
    ]


def _moved(rows, to: str, **fields: object) -> SavedDraft | None:
    """The one draft of ``rows``, locked, moved to state ``to`` (with ``fields``) as its next
    revision (so its IMAP copy follows); None when there is none."""
    with transaction.atomic():
        draft = rows.select_for_update().first()
        if draft is None:
            return None
        draft.state = to
        for name, value in fields.items():
            setattr(draft, name, value)
        _bump(draft, timezone.now())
        draft.save()
    return draft


def undo_send(user: User, message: OutgoingMessage) -> SavedDraft | None:
    """After Undo (the message cancelled in its undo window): its draft is open again, with
    everything it had, and its IMAP copy is written again."""
    sent = SavedDraft.objects.filter(user=user, sent_as=message, state=DraftState.SENT)
    return _moved(sent, DraftState.OPEN, sent_as=None)


def discard(user: User, draft_id: uuid.UUID | str) -> SavedDraft | None:
    """Close the draft; its IMAP copy goes, the row stays ``draftcopy.DISCARD_KEEP`` for ``restore``.
    Returns the draft as it is now (None if there is none of the user's)."""
    moved = _moved(SavedDraft.objects.filter(pk=draft_id, user=user, state=DraftState.OPEN), DraftState.DISCARDED)
    return moved or find(user, draft_id)


def restore(user: User, draft_id: uuid.UUID | str) -> SavedDraft | None:
    """Undo a discard: the draft is open again, and its IMAP copy is written again."""
    discarded = SavedDraft.objects.filter(pk=draft_id, user=user, state=DraftState.DISCARDED)
    return _moved(discarded, DraftState.OPEN)
