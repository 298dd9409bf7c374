"""A message in a Drafts folder, opened in the composer.

Ours (its marker header names one of the user's open drafts) opens that draft; one written by
another client becomes a draft row holding what it holds, and its copy on the server is replaced
on the next save, never duplicated. A copy of ours that another client edited (a marker, but not
the UID we wrote) brings its content into our draft.
"""

from __future__ import annotations

import contextlib
import email.policy
import uuid
from email.parser import BytesHeaderParser

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from inscriptis import get_text

from accounts.models import User
from outbox import compose, richtext
from outbox.drafts import MAX_OPEN_DRAFTS, DraftError, open_drafts
from outbox.models import DraftAttachment, SavedDraft
from webmail.mailbox.message import ParsedMessage, parts_bytes
from webmail.mailbox.message import read as read_message
from webmail.mailbox.models import Folder
from webmail.protocol import headers, imap_drafts


def open_copy(user: User, folder: Folder, uid: int, raw: bytes) -> SavedDraft:
    """The draft a message in a Drafts folder is a copy of (see the module's docstring)."""
    head = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    with contextlib.suppress(ValueError):
        marker = uuid.UUID(headers.decode(head.get(imap_drafts.MARKER_HEADER)) or "-")
        ours = open_drafts(user).filter(pk=marker).first()
        if ours is not None:
            if ours.mirror_uid not in (None, uid) and ours.mirror_folder == folder.name:
                _take_in(ours, folder, uid, raw, head)  # edited elsewhere: that is the newest text
            return ours
    opened = open_drafts(user).filter(mirror_account=folder.account, mirror_folder=folder.name, mirror_uid=uid)
    if (earlier := opened.first()) is not None:
        return earlier
    if open_drafts(user).count() >= MAX_OPEN_DRAFTS:
        raise DraftError(_("You have too many drafts. Send or discard some first."))
    draft = SavedDraft(user=user, revision=0, mirrored_revision=1)
    _take_in(draft, folder, uid, raw, head)
    return draft


def _take_in(draft: SavedDraft, folder: Folder, uid: int, raw: bytes, head) -> None:
    """What the message holds becomes the draft's next revision, the message its IMAP copy."""
    parsed = read_message(raw)
    identities = list(draft.user.identities.all())
    identity = next((i for i in identities if i.address.lower() == parsed.from_address.lower()), None)
    draft.identity = identity or next((i for i in identities if i.is_default), identities[0] if identities else None)
    draft.to, draft.cc, draft.bcc = parsed.to, parsed.cc, headers.decode(head.get("Bcc"))
    draft.subject = parsed.subject[:998]
    draft.body = parsed.text_body or (get_text(parsed.html_body).strip() if parsed.html_body else "")
    # Its HTML, cleaned as if pasted (inline images by cid: are not carried over).
    draft.html = richtext.sanitize_composed(parsed.html_body) if parsed.html_body else ""
    draft.in_reply_to = compose.message_ids_or_nothing(headers.decode(head.get("In-Reply-To")), many=False)
    draft.references = compose.message_ids_or_nothing(headers.decode(head.get("References")), many=True)
    draft.mirror_account, draft.mirror_folder, draft.mirror_uid = folder.account, folder.name, uid
    draft.mirror_uidvalidity = folder.uidvalidity
    draft.revision += 1
    draft.mirrored_revision = draft.revision
    draft.updated_at = timezone.now()
    with transaction.atomic():
        draft.save()
        DraftAttachment.objects.filter(draft=draft).delete()
        DraftAttachment.objects.bulk_create(_attachments(draft, raw, parsed))


def _attachments(draft: SavedDraft, raw: bytes, parsed: ParsedMessage) -> list[DraftAttachment]:
    return [
        DraftAttachment(
            draft=draft,
            filename=compose.safe_line(part.filename)[:255] or "attachment",
            content_type=compose.guess_content_type(part.filename, part.content_type),
            size=len(data),
            data=data,
        )
        for part, data in parts_bytes(raw, {part.index for part in parsed.attachments})
    ]
