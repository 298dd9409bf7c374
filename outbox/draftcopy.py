"""The copy of each draft in its account's IMAP Drafts folder, so that other clients see it.

The database row is the truth (outbox.drafts); the copy catches up. After a save the row is
due (``mirror_due_at``); a task claims it for a while, builds the copy from the newest revision,
replaces the old copy on the server (webmail.protocol.imap_drafts) and records which revision
the server now holds, looping while saves keep coming. A draft sent or discarded has its copy
removed (and, once sent, its row). A server that is down only delays this: the row stays due,
and the sweeper tries again later, less and less often.
"""

from __future__ import annotations

import email.utils
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.crypto import SecretError
from accounts.models import Identity, MailAccount
from outbox import compose, richtext
from outbox.models import DraftAttachment, DraftState, MessageState, SavedDraft
from outbox.sentcopy import retry_after
from webmail.protocol import imap, imap_drafts
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300
# Saves arriving while a copy is written make another round; past this, the sweeper goes on.
MAX_ROUNDS = 5
# A discarded draft can be brought back for this long, then it is forgotten.
DISCARD_KEEP = timedelta(days=7)


def due(now: datetime | None = None, limit: int = 200) -> list[str]:
    now = now or timezone.now()
    free = Q(mirror_claimed_until__isnull=True) | Q(mirror_claimed_until__lt=now)
    rows = SavedDraft.objects.filter(mirror_due_at__lte=now).filter(free).order_by("mirror_due_at")
    return [str(pk) for pk in rows.values_list("id", flat=True)[:limit]]


def _sent_and_done(now: datetime | None = None):
    """Sent drafts that can go: their message is past its undo window (Undo brings a draft back,
    ``drafts.undo_send``)."""
    now = now or timezone.now()
    undoable = Q(sent_as__state=MessageState.QUEUED, sent_as__scheduled=False, sent_as__due_at__gt=now)
    return SavedDraft.objects.filter(state=DraftState.SENT).exclude(undoable)


def purge_discarded(now: datetime | None = None) -> int:
    """Forget discarded drafts past their undo time, and sent ones past their message's undo
    window, whose IMAP copy is gone."""
    now = now or timezone.now()
    copy_gone = Q(mirror_uid__isnull=True, mirror_due_at=None)
    discarded = SavedDraft.objects.filter(copy_gone, state=DraftState.DISCARDED, updated_at__lt=now - DISCARD_KEEP)
    sent = _sent_and_done(now).filter(copy_gone)
    return discarded.delete()[0] + sent.delete()[0]


def mirror(draft_id: str) -> None:
    """Bring the draft's IMAP copy up to date, if it is due and no other worker is at it."""
    if not _claim(draft_id, due=True):
        return
    for _round in range(MAX_ROUNDS):
        draft = SavedDraft.objects.select_related("identity__account", "mirror_account").filter(pk=draft_id).first()
        if draft is None:
            return
        try:
            if _mirror_once(draft):
                return
        except Exception as exc:  # a server that is away, or a copy that cannot be built: later
            attempts = draft.mirror_attempts + 1
            if isinstance(exc, MailServerError | SecretError):
                log.warning("copying draft %s to IMAP failed (attempt %d): %s", draft_id, attempts, exc)
            else:
                log.exception("copying draft %s to IMAP failed (attempt %d)", draft_id, attempts)
            SavedDraft.objects.filter(pk=draft_id).update(
                mirror_attempts=attempts,
                mirror_due_at=timezone.now() + retry_after(attempts),
                mirror_claimed_until=None,
                mirror_error=str(exc)[:500] or type(exc).__name__,
            )
            return
        _claim(draft_id, due=False)  # another round: the claim is renewed
    SavedDraft.objects.filter(pk=draft_id).update(mirror_claimed_until=None)


def _claim(draft_id: str, *, due: bool) -> bool:
    now = timezone.now()
    rows = SavedDraft.objects.filter(pk=draft_id)
    if due:
        free = Q(mirror_claimed_until__isnull=True) | Q(mirror_claimed_until__lt=now)
        rows = rows.filter(mirror_due_at__lte=now).filter(free)
    return bool(rows.update(mirror_claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))


def _mirror_once(draft: SavedDraft) -> bool:
    """One round: the copy now holds ``draft.revision`` (or is gone, for a closed draft).
    Returns whether that is still the newest revision, i.e. whether the work is done."""
    revision = draft.revision
    account = draft.identity.account if draft.identity is not None and draft.state == DraftState.OPEN else None
    old_account, old_folder, old_uid = draft.mirror_account, draft.mirror_folder, draft.mirror_uid
    known = draft.mirror_uidvalidity
    folder, uid, validity = "", None, None
    if account is not None and draft.identity is not None:
        raw = copy_bytes(draft, draft.identity)
        keep_old = old_account is not None and old_account.pk != account.pk
        with imap.session(account) as client:
            folder = imap_drafts.drafts_folder(client)
            if old_account is None:  # where a copy may be from now on, before there is one
                SavedDraft.objects.filter(pk=draft.pk).update(mirror_account=account, mirror_folder=folder)
            also = [old_uid] if old_uid and not keep_old and old_folder == folder else []
            uid, validity = imap_drafts.replace_draft(client, folder, raw, str(draft.pk), also, known)
            if not keep_old and old_folder and old_folder != folder:
                imap_drafts.remove_draft(client, old_folder, str(draft.pk), [old_uid] if old_uid else [], known)
        if keep_old and old_account is not None:  # the identity moved to another account: its old copy goes too
            _remove(old_account, old_folder, draft, old_uid)
    elif old_account is not None and old_folder:
        _remove(old_account, old_folder, draft, old_uid)
    recorded = {
        "mirror_account": account,
        "mirror_folder": folder,
        "mirror_uid": uid,
        "mirror_uidvalidity": validity,
        "mirrored_revision": revision,
    }
    settled = {"mirror_due_at": None, "mirror_claimed_until": None, "mirror_attempts": 0, "mirror_error": ""}
    if SavedDraft.objects.filter(pk=draft.pk, revision=revision).update(**recorded, **settled):
        if draft.state == DraftState.SENT:
            _sent_and_done().filter(pk=draft.pk).delete()
        return True
    SavedDraft.objects.filter(pk=draft.pk).update(**recorded)
    return False


def _remove(account: MailAccount, folder: str, draft: SavedDraft, uid: int | None) -> None:
    with imap.session(account) as client:
        imap_drafts.remove_draft(client, folder, str(draft.pk), [uid] if uid else [], draft.mirror_uidvalidity)


# -- the copy's bytes -------------------------------------------------------------------------


def copy_bytes(draft: SavedDraft, identity: Identity) -> bytes:
    """The draft as a message another client can open: what could be checked of it, its Bcc,
    and the marker header naming the row (so that its copies can be found and replaced)."""
    bcc = _valid_addresses(draft.bcc)
    message = compose.Draft(
        identity=identity,
        to=_valid_addresses(draft.to),
        cc=_valid_addresses(draft.cc),
        subject=compose.safe_line(draft.subject),
        body=richtext.plain_text(draft.html) if draft.html else draft.body,
        html=draft.html,
        attachments=[
            compose.Attachment(a.filename, a.content_type, bytes(a.data))
            for a in DraftAttachment.objects.filter(draft=draft)
        ],
        in_reply_to=compose.message_ids_or_nothing(draft.in_reply_to, many=False),
        references=compose.message_ids_or_nothing(draft.references, many=True),
    )
    raw, _message_id = compose.build_mime(message, now=draft.updated_at)
    extra = EmailMessage(policy=compose.POLICY)
    extra[imap_drafts.MARKER_HEADER] = str(draft.pk)
    if bcc:
        extra["Bcc"] = [mailbox.header_value() for mailbox in bcc]
    head = extra.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"
    return head + raw


def _valid_addresses(typed: str) -> list[compose.Mailbox]:
    """The addresses that can be read of a field still being typed; the rest stays in the row."""
    line = compose.one_line(typed)
    try:
        return compose.parse_addresses(line)
    except ValidationError:
        pass
    valid = []
    for name, address in email.utils.getaddresses([line]):
        try:
            valid += compose.parse_addresses(email.utils.formataddr((name, address)))
        except ValidationError:
            continue
    return valid
