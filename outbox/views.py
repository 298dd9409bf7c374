from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts import dates
from accounts.http import HtmxRequest, SignedInRequest
from outbox import delivery, draft_views, drafts, sending, tasks
from outbox.delivery.outcomes import WORKER_NOTES
from outbox.models import (
    MessageState,
    OutgoingMessage,
    Recipient,
    RecipientKind,
    RecipientState,
)

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
    """HH:MM in the user's zone; with the date (in the user's date order) when it is not today."""
    local = timezone.localtime(moment, zone)
    if local.date() == timezone.localtime(now, zone).date():
        return local.strftime("%H:%M")
    return f"{dates.shown(local.date(), 'SHORT_DATE_FORMAT')} {local.strftime('%H:%M')}"


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


def worker_note(text: str) -> str:
    """A note the worker stored (``delivery.outcomes.WORKER_NOTES``, in English, with the
    server's words after it in brackets, if any) in the reader's language."""
    for note in WORKER_NOTES:
        if text == note or text.startswith(f"{note} ("):
            return _(note) + text[len(note) :]
    return text


def recipient_words(recipient: Recipient) -> str:
    """What happened to the message for this recipient, in a sentence."""
    words: dict[str, str] = {
        RecipientState.PENDING: _("Not handed to your mail server yet."),
        RecipientState.ACCEPTED: _("Your mail server accepted it and delivers it from there."),
        RecipientState.DEFERRED: _("Your mail server could not take it yet; it is tried again later."),
        RecipientState.REJECTED: _("Your mail server refused it: it was not sent to this address."),
        RecipientState.DELIVERED: _("A delivery report says it arrived."),
        RecipientState.DELAYED: _("A delivery report says it is delayed; the receiving server keeps trying."),
        RecipientState.BOUNCED: _("It could not be delivered: a report came back."),
    }
    return words.get(recipient.state, "")


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
        reason = reply_text(rejected) if rejected is not None else worker_note(message.last_error)
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
    return message.in_undo_window(now)


def recipients_summary(recipients: list[Recipient], shown: int = 3) -> str:
    names = [r.display_name or r.address for r in recipients]
    if len(names) <= shown:
        return ", ".join(names)
    return _("%(names)s and %(count)d more") % {"names": ", ".join(names[:shown]), "count": len(names) - shown}


# -- pages ------------------------------------------------------------------------------------


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
        "recipient_rows": [(recipient, recipient_words(recipient)) for recipient in recipients],
        "status_text": status_text(message, recipients, zone, now),
        "status_class": status_class(message, recipients),
        "last_error": worker_note(message.last_error),
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
        draft = drafts.undo_send(request.user, message) if was_undo else None
        if draft is not None:  # back in the composer, as it was
            messages.success(request, _("Sending undone. The message is back in the composer."))
            return redirect(draft_views.compose_url(draft.pk))
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
