"""The draft endpoints the composer calls as it is typed in, and the drafts pages.

Saves and attachment changes answer JSON: the draft's id, its new revision and when it was
saved, or a refusal (``error``, and for a stale revision the ``revision`` the draft is at) with
a 4xx status. Every draft a URL names is looked up among the user's own; anyone else's is a 404.
"""

from __future__ import annotations

import re
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import SignedInRequest
from outbox import compose, draft_import, drafts
from outbox.forms import DraftForm
from outbox.models import DraftAttachment, DraftState, SavedDraft
from webmail.mailbox import store
from webmail.mailbox.views import pages
from webmail.protocol.mailservers import MailServerError


def compose_url(draft_id: uuid.UUID | str) -> str:
    return reverse("outbox:compose") + "?" + urlencode({"draft": str(draft_id)})


def _saved(request: SignedInRequest, draft: SavedDraft, **extra: object) -> JsonResponse:
    saved_at = timezone.localtime(draft.updated_at, request.user.zone).strftime("%H:%M")
    body = {"draft": str(draft.pk), "revision": draft.revision, "saved_at": saved_at, "url": compose_url(draft.pk)}
    return JsonResponse({**body, **extra}, headers={"Cache-Control": "private, no-store"})


def _refused(text: str, status: int, **extra: object) -> JsonResponse:
    return JsonResponse({"error": text, **extra}, status=status, headers={"Cache-Control": "private, no-store"})


def _revision(request: SignedInRequest) -> int:
    try:
        revision = int(request.POST.get("revision") or 0)
    except ValueError:
        raise Http404 from None
    if revision < 0:
        raise Http404
    return revision


_PAGE_TOKEN = re.compile(r"[A-Za-z0-9-]{8,64}")


def _page(request: SignedInRequest) -> drafts.Page:
    """Which composer page is saving, and its save's number (see ``drafts.Page``)."""
    token = request.POST.get("page", "")
    try:
        seq = int(request.POST.get("seq") or 0)
    except ValueError:
        seq = 0
    if not _PAGE_TOKEN.fullmatch(token) or not 0 <= seq < 2**31:
        return drafts.Page()
    return drafts.Page(token, seq)


def signed_in_json(view):
    """``login_required`` for what the page's scripts call: 401 and words, not a redirect to a page."""

    @wraps(view)
    def wrapper(request: SignedInRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _refused(_("You were signed out. Sign in again in another tab; this page keeps your text."), 401)
        return view(request, *args, **kwargs)

    return wrapper


def _refusal(exc: drafts.DraftError) -> JsonResponse:
    return _refused(str(exc), exc.status, revision=getattr(exc, "current", None))


@require_POST
@signed_in_json
def save(request: SignedInRequest, draft_id: uuid.UUID) -> HttpResponse:
    form = DraftForm(request.POST, user=request.user)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return _refused(" ".join(errors), 413 if form.has_error("__all__", "too_large") else 400)
    try:
        draft = drafts.save(request.user, draft_id, _revision(request), form.typed(), _page(request))
    except SavedDraft.DoesNotExist:
        raise Http404 from None
    except drafts.DraftError as exc:
        return _refusal(exc)
    return _saved(request, draft)


def _attachment_json(draft: SavedDraft, attachment: DraftAttachment) -> dict[str, object]:
    return {
        "id": str(attachment.pk),
        "name": attachment.filename,
        "size": attachment.size,
        "size_text": filesizeformat(attachment.size),
        "remove_url": reverse("outbox:draft_remove_attachment", args=[draft.pk, attachment.pk]),
    }


@require_POST
@signed_in_json
def upload(request: SignedInRequest, draft_id: uuid.UUID) -> HttpResponse:
    """One file, stored with the draft (and checked against the size cap with what it has)."""
    upload = request.FILES.get("file")
    if upload is None:
        return _refused(_("Choose a file to attach."), 400)
    try:
        filename = compose.check_header_text(compose.one_line(upload.name or ""), _("An attachment's name"))
    except ValidationError as exc:
        return _refused(" ".join(exc.messages), 400)
    existing = drafts.find(request.user, draft_id)
    sizes = [*drafts.attachment_sizes(existing), upload.size or 0]
    body = existing.body if existing is not None else ""
    estimate = compose.estimated_size(body, sizes)
    if estimate > settings.WEBMAIL_MAX_MESSAGE_BYTES:
        return _refused(compose.too_large_text(estimate), 413)
    attachment = compose.Attachment(
        filename=filename or "attachment",
        content_type=compose.guess_content_type(upload.name or "", upload.content_type),
        data=upload.read(),
    )
    try:
        draft, stored = drafts.add_attachment(request.user, draft_id, _revision(request), attachment, _page(request))
    except SavedDraft.DoesNotExist:
        raise Http404 from None
    except drafts.DraftError as exc:
        return _refusal(exc)
    return _saved(request, draft, attachment=_attachment_json(draft, stored))


@require_POST
@signed_in_json
def remove_attachment(request: SignedInRequest, draft_id: uuid.UUID, attachment_id: uuid.UUID) -> HttpResponse:
    try:
        draft = drafts.remove_attachment(request.user, draft_id, _revision(request), str(attachment_id), _page(request))
    except (SavedDraft.DoesNotExist, DraftAttachment.DoesNotExist):
        raise Http404 from None
    except drafts.DraftError as exc:
        return _refusal(exc)
    return _saved(request, draft)


@require_POST
@login_required
def discard(request: SignedInRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = drafts.discard(request.user, draft_id)
    if draft is None:  # never saved: there is nothing to keep
        return redirect("outbox:drafts")
    messages.success(request, _("Draft discarded."))
    return redirect(reverse("outbox:drafts") + "?" + urlencode({"discarded": str(draft.pk)}))


@require_POST
@login_required
def restore(request: SignedInRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = drafts.restore(request.user, draft_id)
    if draft is None:
        raise Http404(_("This draft can no longer be brought back."))
    messages.success(request, _("Draft restored."))
    return redirect(compose_url(draft.pk))


@login_required
@never_cache
def drafts_list(request: SignedInRequest) -> HttpResponse:
    discarded = None
    if request.GET.get("discarded"):
        try:
            discarded = drafts.find(request.user, uuid.UUID(request.GET["discarded"]))
        except ValueError:
            discarded = None
    context = {
        "drafts": drafts.open_drafts(request.user).prefetch_related("attachments")[:200],
        "discarded": discarded if discarded is not None and discarded.state == DraftState.DISCARDED else None,
    }
    with timezone.override(request.user.zone):
        return render(request, "outbox/drafts.html", context)


@login_required
def open_from_folder(request: SignedInRequest, folder_id: int, uid: int) -> HttpResponse:
    """A message in a Drafts folder, opened in the composer: ours is the row it was copied from,
    another client's becomes a draft row (and the copy it came from is replaced on the next save)."""
    folder = pages.user_folder(request, folder_id)
    if not folder.is_drafts:  # only a Drafts folder holds drafts: nothing else is ever replaced
        raise Http404
    try:
        raw = store.load_raw(folder, pages.check_uid(uid))
    except MailServerError as exc:
        messages.error(request, pages.server_problem(exc))
        return redirect("mailbox:folder", folder_id=folder.pk)
    if raw is None:
        raise Http404(_("This message is no longer on the server."))
    try:
        draft = draft_import.open_copy(request.user, folder, uid, raw)
    except drafts.DraftError as exc:
        messages.error(request, str(exc))
        return redirect("mailbox:folder", folder_id=folder.pk)
    return redirect(compose_url(draft.pk))


# -- the composer page's side of drafts (outbox.views.compose_view) ---------------------------


def opened(request: SignedInRequest) -> SavedDraft | HttpResponse:
    """The draft ``?draft=`` names, to open in the composer; or where to go instead (a draft
    sent meanwhile shows its message; a discarded one offers to bring it back)."""
    try:
        draft = drafts.find(request.user, uuid.UUID(request.GET["draft"]))
    except ValueError:
        raise Http404 from None
    if draft is None:
        raise Http404(_("There is no such draft."))
    if draft.state == DraftState.SENT and draft.sent_as_id:
        messages.info(request, _("This draft was sent."))
        return redirect("outbox:detail", message_id=draft.sent_as_id)
    if draft.state != DraftState.OPEN:
        return redirect(reverse("outbox:drafts") + "?" + urlencode({"discarded": str(draft.pk)}))
    return draft


def initial_from(draft: SavedDraft) -> dict[str, object]:
    typed = drafts.Fields.of(draft)
    initial: dict[str, object] = {
        name: getattr(typed, name)
        for name in ("to", "cc", "bcc", "subject", "body", "delivery_receipt", "send_at", "in_reply_to", "references")
    }
    initial["identity"] = typed.identity.pk if typed.identity else None
    initial["how"] = typed.how
    # The editor starts from the saved HTML; a draft saved in plain text opens in plain text.
    initial["html"] = typed.html
    if typed.body or typed.html:
        initial["plain"] = not typed.html
    if typed.answers:
        initial["answers"] = f"{typed.answers[0]}:{typed.answers[1]}"
    return initial


def listed(draft: SavedDraft | None) -> list[dict[str, object]]:
    """The draft's stored attachments, as the composer lists them."""
    if draft is None:
        return []
    return [_attachment_json(draft, a) for a in draft.attachments.defer("data")]


def keep_typed(request: SignedInRequest, draft_id: uuid.UUID) -> tuple[SavedDraft | None, bool]:
    """After a refused Send, what was typed and attached is saved in the draft, whatever revision
    the page had (what it sent is the newest), so the page that comes back loses nothing.
    Returns the draft and whether every file sent with the form is now stored with it (not
    those that could not be sent: too large together, or a name that was refused)."""
    form = DraftForm(request.POST, user=request.user)
    if not form.is_valid():
        return None, False
    current = drafts.find(request.user, draft_id)
    if current is not None and current.state != DraftState.OPEN:
        return None, False
    uploads = request.FILES.getlist("attachments")
    sizes = [*drafts.attachment_sizes(current), *(upload.size or 0 for upload in uploads)]
    fit = compose.estimated_size(form.cleaned_data["body"], sizes) <= settings.WEBMAIL_MAX_MESSAGE_BYTES
    kept = 0
    try:
        draft = drafts.save(request.user, draft_id, current.revision if current else 0, form.typed())
        for upload in uploads if fit else []:
            try:
                name = compose.check_header_text(compose.one_line(upload.name or ""), "") or "attachment"
            except ValidationError:
                continue  # its name is what was refused
            upload.seek(0)  # the refused Send may have read it already
            attachment = compose.Attachment(
                name, compose.guess_content_type(upload.name or "", upload.content_type), upload.read()
            )
            draft, _stored = drafts.add_attachment(request.user, draft_id, draft.revision, attachment)
            kept += 1
    except (drafts.DraftError, SavedDraft.DoesNotExist):
        return None, False
    return draft, kept == len(uploads)
