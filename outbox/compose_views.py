"""The composer page: a new message, an answer (reply, reply all, forward, forward as
attachment) prefilled from the message answered, or a draft opened again; Send queues it through
``drafts.send``, and a refused Send comes back with everything kept (``draft_views.keep_typed``).
"""

from __future__ import annotations

import uuid
from email.utils import formataddr

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.http import SignedInRequest
from outbox import compose, draft_views, drafts, replies, sending, signatures
from outbox.forms import ComposeForm, DraftForm
from outbox.models import AnswerFlag, SavedDraft
from webmail.mailbox import store
from webmail.mailbox.message import read as read_message
from webmail.mailbox.models import Folder
from webmail.mailbox.views import pages
from webmail.protocol.mailservers import MailServerError


def _answer(request: SignedInRequest) -> tuple[dict[str, object], str, int]:
    """The composer's initial fields for answering the message the query names (``folder``,
    ``uid``, ``how``: reply, all or forward): the user's own folder, or 404. Returns the fields,
    a problem to show (the mail server did not answer) and the page's status."""
    try:
        how = replies.How(request.GET.get("how", replies.How.REPLY))
        folder_id, uid = int(request.GET["folder"]), int(request.GET["uid"])
    except (KeyError, ValueError):
        raise Http404 from None
    folder = pages.user_folder(request, folder_id)
    try:
        raw = store.load_raw(folder, pages.check_uid(uid))
    except MailServerError as exc:
        return {}, pages.server_problem(exc), 502
    if raw is None:
        raise Http404(_("This message is no longer on the server."))
    parsed = read_message(raw)
    html = parsed.html_body
    if how == replies.How.FORWARD and html:  # its pictures stay in the text
        html = replies.with_inline_images(html, raw, parsed.inline_parts)
    original = replies.read_original(raw, parsed.text_body, html)
    identities = list(request.user.identities.select_related("account"))
    answer = replies.answer(original, identities, how, request.user.zone)
    initial: dict[str, object] = {
        "identity": answer.identity.pk if answer.identity else None,
        "to": ", ".join(formataddr((m.display_name, m.address)) for m in answer.to),
        "cc": ", ".join(formataddr((m.display_name, m.address)) for m in answer.cc),
        "subject": answer.subject,
        "body": answer.body,
        "html": answer.html,
        "in_reply_to": answer.in_reply_to,
        "references": answer.references,
        "answers": f"{folder.pk}:{uid}",
        "how": how.value,
    }
    if how == replies.How.FORWARD:
        initial["forwarded"] = [f"{item.filename} ({filesizeformat(item.size)})" for item in parsed.attachments]
    elif how == replies.How.FORWARD_ATTACHED:
        initial["forwarded"] = [f"{replies.attached_name(original.subject)} ({filesizeformat(len(raw))})"]
    return initial, "", 200


def _with_forwarded(draft: compose.Draft, how: str) -> compose.Draft:
    """A forward carries the original's attachments, or the original itself, fetched again from
    the server (the form checked the original is the user's own)."""
    if draft.answer_flag != AnswerFlag.FORWARDED or draft.answers is None:
        return draft
    folder = Folder.objects.select_related("account").get(pk=draft.answers[0])
    raw = store.load_raw(folder, draft.answers[1])
    if raw is None:  # gone from the server meanwhile: the forward goes without them
        return draft
    if how == replies.How.FORWARD_ATTACHED:
        subject = replies.read_original(raw, "", "").subject
        draft.attachments = [replies.attached_original(raw, subject), *draft.attachments]
    else:
        draft.attachments = [*replies.forwarded_attachments(raw), *draft.attachments]
    return draft


@login_required
def compose_view(request: SignedInRequest) -> HttpResponse:
    user = request.user
    is_post = request.method == "POST"
    initial: dict[str, object] = {}
    status = 200
    draft: SavedDraft | None = None
    files_kept = False
    if not is_post and "draft" in request.GET:  # the user's own draft, or 404
        found = draft_views.opened(request)
        if isinstance(found, HttpResponse):
            return found
        draft = found
        initial = draft_views.initial_from(draft)
        if draft.answers_folder_id and draft.how == replies.How.FORWARD:
            initial["forwarded"] = [_("the original's attachments, fetched from the server when it is sent")]
        elif draft.answers_folder_id and draft.how == replies.How.FORWARD_ATTACHED:
            initial["forwarded"] = [_("the original message, fetched from the server when it is sent")]
    elif not is_post and "folder" in request.GET:  # the message answered is the user's, or 404
        initial, problem, status = _answer(request)
        if problem:
            messages.error(request, problem)
    if not user.identities.exists():
        return render(request, "outbox/no_identity.html", status=400 if is_post else 200)
    if not is_post and draft is None:  # a draft has its signature already
        initial = signatures.prefill(initial, user)
    initial.update(draft_id=draft.pk if draft else uuid.uuid4(), revision=draft.revision if draft else 0)
    form = ComposeForm(
        request.POST if is_post else None, request.FILES if is_post else None, user=user, initial=initial
    )
    if is_post:
        sent, status = _send(request, form)
        if sent is not None:
            return sent
        # What was typed and attached is kept in the draft (a new one, for a page that had none),
        # and the page comes back with the draft's id, revision and files.
        draft_id = form.cleaned_data.get("draft_id") or uuid.uuid4()
        draft, files_kept = draft_views.keep_typed(request, draft_id)
        data = request.POST.copy()
        data["draft_id"] = str(draft_id)
        if draft is not None:
            data["revision"] = str(draft.revision)
        form.data = data
    context = {
        "form": form,
        # What a forward carries (fetched again when it is sent): listed when the composer opened,
        # and carried through a refused Send in hidden fields (only ever shown, as text).
        "forwarded": initial.get("forwarded") or request.POST.getlist("forwarded_name")[:100],
        "heading": _heading(form),
        # Where typing starts: above the quote of a reply, in To for a new message or a forward.
        "focus": "body" if draft or form["how"].value() in (replies.How.REPLY, replies.How.REPLY_ALL) else "to",
        "attachments": draft_views.listed(draft),
        "files_kept": files_kept,
        "draft_id": form["draft_id"].value(),
        "saved_at": timezone.localtime(draft.updated_at, form.zone).strftime("%H:%M") if draft else "",
    }
    with timezone.override(form.zone):
        return render(request, "outbox/compose.html", context, status=status)


def _send(request: SignedInRequest, form: ComposeForm) -> tuple[HttpResponse | None, int]:
    """Queue what the form holds, closing its draft: the message's page, or the status of the
    form that comes back with the reason."""
    if not form.is_valid():
        return None, 400
    keep = set(request.POST.getlist("attachment"))
    typed = DraftForm(request.POST, user=request.user)
    outgoing = form.draft()
    uploads = list(outgoing.attachments)  # the files sent with the form (none with JavaScript)
    try:
        message, new = drafts.send(
            request.user,
            form.cleaned_data["draft_id"],
            _with_forwarded(outgoing, form.cleaned_data["how"]),
            keep,
            typed=typed.typed() if typed.is_valid() else None,
            uploads=uploads,
        )
    except MailServerError as exc:  # the original's attachments could not be fetched
        form.add_error(None, pages.server_problem(exc))
        return None, 502
    except sending.SendRefused as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:  # the headers could not be built safely
        form.add_error(None, exc)
    else:
        messages.success(request, _("Queued.") if new else _("This message was already queued."))
        return redirect("outbox:detail", message_id=message.pk), 302
    return None, 400


def _heading(form: ComposeForm) -> str:
    how = str(form["how"].value() or "") if form["answers"].value() else ""
    headings = {
        replies.How.REPLY.value: _("Reply"),
        replies.How.REPLY_ALL.value: _("Reply all"),
        replies.How.FORWARD.value: _("Forward"),
        replies.How.FORWARD_ATTACHED.value: _("Forward as attachment"),
    }
    return headings.get(how, "")
