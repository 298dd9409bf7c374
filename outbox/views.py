from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts.http import HtmxRequest, SignedInRequest
from outbox import compose, delivery, draft_views, drafts, replies, sending, signatures, tasks
from outbox.forms import ComposeForm
from outbox.models import (
    AnswerFlag,
    MessageState,
    OutgoingMessage,
    Recipient,
    RecipientKind,
    RecipientState,
    SavedDraft,
)
from webmail.mailbox import store
from webmail.mailbox.message import read as read_message
from webmail.mailbox.models import Folder
from webmail.mailbox.views import pages
from webmail.protocol.mailservers import MailServerError

PAGE_SIZE = 50
POLL_SECONDS = 2
# Recipients the server took: "sent to n of m" counts these.
TAKEN = (RecipientState.ACCEPTED, RecipientState.DELIVERED, RecipientState.DELAYED)


@dataclass(frozen=True)
class OutboxRow:
    """One line of the outbox list: the message and what the list says of it."""

    message: OutgoingMessage
    status_text: str
    status_class: str
    recipients_summary: str

    @classmethod
    def of(cls, message: OutgoingMessage, zone: ZoneInfo, now: datetime) -> OutboxRow:
        recipients = list(message.recipients.all())
        return cls(
            message,
            status_text(message, recipients, zone, now),
            status_class(message, recipients),
            recipients_summary(recipients),
        )


def _polled(view):
    """For the pages htmx polls: once the session is gone, the whole page goes to sign-in, not the table."""

    @wraps(view)
    def wrapper(request: HtmxRequest, *args, **kwargs) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            page = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(page).url)
        return view(request, *args, **kwargs)

    return wrapper


def _get_message_for_user(request: SignedInRequest, message_id) -> OutgoingMessage:
    # The bytes stay in the database unless an action needs them (resend reads them on access).
    messages_ = OutgoingMessage.objects.defer("mime").select_related("identity", "account")
    return get_object_or_404(messages_, pk=message_id, user=request.user)


# -- words for states -------------------------------------------------------------------------


def _clock(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """HH:MM in the user's zone; with the date when it is not today."""
    local = timezone.localtime(moment, zone)
    if local.date() == timezone.localtime(now, zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def reply_text(recipient: Recipient) -> str:
    """The server's answer as one line: code, enhanced code, text (the text often starts with the latter)."""
    parts = []
    if recipient.code:
        parts.append(str(recipient.code))
    if recipient.enhanced_code and not recipient.reply.startswith(recipient.enhanced_code):
        parts.append(recipient.enhanced_code)
    if recipient.reply:
        parts.append(recipient.reply)
    return " ".join(parts)


def status_text(message: OutgoingMessage, recipients: list[Recipient], zone: ZoneInfo, now: datetime) -> str:
    state = message.state
    if state == MessageState.QUEUED:
        if message.due_at > now:
            return _("queued, sending at %(time)s") % {"time": _clock(message.due_at, zone, now)}
        return _("queued")
    if state == MessageState.SENDING:
        return _("sending")
    if state == MessageState.DEFERRED:
        if message.next_attempt_at:
            return _("deferred, retrying at %(time)s") % {"time": _clock(message.next_attempt_at, zone, now)}
        return _("deferred")
    if state == MessageState.SENT:
        if any(r.state == RecipientState.BOUNCED for r in recipients):
            return _("bounced")
        taken = sum(1 for r in recipients if r.state in TAKEN)
        if taken == len(recipients):
            return _("sent")
        return _("sent to %(sent)d of %(total)d") % {"sent": taken, "total": len(recipients)}
    if state == MessageState.FAILED:
        rejected = next((r for r in recipients if r.state == RecipientState.REJECTED), None)
        reason = reply_text(rejected) if rejected is not None else message.last_error
        return _("failed: %(reason)s") % {"reason": reason} if reason else _("failed")
    labels: dict[str, str] = {
        MessageState.HELD: _("held"),
        MessageState.UNCERTAIN: _("uncertain"),
        MessageState.CANCELLED: _("cancelled"),
    }
    return labels.get(state, state)


def status_class(message: OutgoingMessage, recipients: list[Recipient]) -> str:
    """The CSS modifier for the state badge: a sent message that bounced or half-failed is not all green."""
    if message.state == MessageState.SENT:
        if any(r.state == RecipientState.BOUNCED for r in recipients):
            return "bounced"
        if any(r.state not in TAKEN for r in recipients):
            return "partial"
    return message.state


def in_undo_window(message: OutgoingMessage, now: datetime) -> bool:
    return message.state == MessageState.QUEUED and not message.scheduled and message.due_at > now


def recipients_summary(recipients: list[Recipient], shown: int = 3) -> str:
    names = [r.display_name or r.address for r in recipients]
    if len(names) <= shown:
        return ", ".join(names)
    return _("%(names)s and %(count)d more") % {"names": ", ".join(names[:shown]), "count": len(names) - shown}


# -- pages ------------------------------------------------------------------------------------


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
    original = replies.read_original(raw, parsed.text_body, parsed.html_body)
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
    return initial, "", 200


def _with_forwarded_attachments(draft: compose.Draft) -> compose.Draft:
    """A forward carries the original's attachments, fetched again from the server (the form
    checked the original is the user's own)."""
    if draft.answer_flag != AnswerFlag.FORWARDED or draft.answers is None:
        return draft
    folder = Folder.objects.select_related("account").get(pk=draft.answers[0])
    raw = store.load_raw(folder, draft.answers[1])
    if raw is not None:  # gone from the server meanwhile: the forward goes without them
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
        "forwarded": initial.get("forwarded", []),
        "heading": _heading(form),
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
    try:
        message, new = drafts.send(
            request.user, form.cleaned_data["draft_id"], _with_forwarded_attachments(form.draft()), keep
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
    headings = {replies.How.REPLY.value: _("Reply"), replies.How.REPLY_ALL.value: _("Reply all")}
    return headings.get(how, _("Forward") if how == replies.How.FORWARD.value else "")


@_polled
@login_required
@never_cache
@vary_on_headers("HX-Request")
def outbox_list(request: SignedInRequest) -> HttpResponse:
    zone, now = request.user.zone, timezone.now()
    queryset = (
        OutgoingMessage.objects.filter(user=request.user)
        .defer("mime")
        .order_by("-created_at")
        .prefetch_related("recipients")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [OutboxRow.of(message, zone, now) for message in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "polling": any(row.message.in_flight for row in rows),
        "poll_seconds": POLL_SECONDS,
    }
    template = "outbox/_rows.html" if request.htmx else "outbox/list.html"
    with timezone.override(zone):
        return render(request, template, context)


@_polled
@login_required
@never_cache
@vary_on_headers("HX-Request")
def detail(request: SignedInRequest, message_id) -> HttpResponse:
    message = _get_message_for_user(request, message_id)
    zone, now = request.user.zone, timezone.now()
    recipients = list(message.recipients.all())
    context = {
        "message": message,
        "recipients": recipients,
        "status_text": status_text(message, recipients, zone, now),
        "status_class": status_class(message, recipients),
        "undo_window": in_undo_window(message, now),
        "can_resend": message.can_resend,
        "attempts": message.delivery_attempts.select_related("recipient"),
        "poll_seconds": POLL_SECONDS,
        "zone": zone,
    }
    if request.htmx:
        template = "outbox/_status.html"
    else:
        template = "outbox/detail.html"
        context["by_kind"] = [
            (label, [r for r in recipients if r.kind == kind])
            for kind, label in RecipientKind.choices
            if any(r.kind == kind for r in recipients)
        ]
    with timezone.override(zone):
        return render(request, template, context)


# -- buttons ----------------------------------------------------------------------------------


def _too_late(message: OutgoingMessage) -> str:
    message.refresh_from_db(fields=["state"])
    return _("The message is now %(state)s.") % {"state": message.get_state_display()}


@require_POST
@login_required
def cancel(request: SignedInRequest, message_id) -> HttpResponse:
    message = _get_message_for_user(request, message_id)
    was_undo = in_undo_window(message, timezone.now())
    if delivery.cancel(message):
        messages.success(request, _("Sending undone. The message will not be sent.") if was_undo else _("Cancelled."))
    else:
        messages.error(request, _("It is too late to cancel this message.") + " " + _too_late(message))
    return redirect("outbox:detail", message_id=message.pk)


@require_POST
@login_required
def retry_now(request: SignedInRequest, message_id) -> HttpResponse:
    message = _get_message_for_user(request, message_id)
    if delivery.retry_now(message):
        transaction.on_commit(lambda: tasks.ring_each([str(message.pk)]))
        messages.success(request, _("Sending now."))
    else:
        messages.error(
            request, _("This message is not waiting to be sent, so it cannot be retried.") + " " + _too_late(message)
        )
    return redirect("outbox:detail", message_id=message.pk)


@require_POST
@login_required
def resend(request: SignedInRequest, message_id) -> HttpResponse:
    message = _get_message_for_user(request, message_id)
    try:
        copy = sending.resend(request.user, message) if message.can_resend else None
    except sending.SendRefused as exc:
        messages.error(request, str(exc))
        return redirect("outbox:detail", message_id=message.pk)
    if copy is None:
        messages.error(
            request,
            _("There is nothing to send again: every recipient already has this message, or it is still being sent."),
        )
        return redirect("outbox:detail", message_id=message.pk)
    transaction.on_commit(lambda: tasks.announce_stored(copy))
    messages.success(request, _("Queued again as a new message."))
    return redirect("outbox:detail", message_id=copy.pk)
