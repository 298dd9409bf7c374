"""One message: the reading pane, its sanitized body document, its attachments and inline
images, and the "always show remote images from this sender" list.

Mail content is shown only inside a sandboxed iframe whose document has a policy of its own
(see ``message_body``); a part is a document of its own that may do nothing at all.
"""

from __future__ import annotations

import re
from datetime import UTC
from zoneinfo import ZoneInfo

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connections
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import dates
from accounts.http import next_url
from accounts.middleware import second_factor_exempt
from webmail.mailbox import store, tokens
from webmail.mailbox.message import ParsedMessage, part_bytes, read
from webmail.mailbox.models import Folder, MessageSummary, RemoteImagesAllowed
from webmail.mailbox.trust import sender_for_images, sender_warnings
from webmail.mailbox.views.bodies import RASTER_TYPES, body_of, images_for, inline_images
from webmail.mailbox.views.pages import check_uid, folder_and_siblings, render_page, server_problem, user_folder
from webmail.protocol.mailservers import MailServerError

# A downloaded or inline-shown part is a document of its own: it may do nothing at all.
PART_POLICY = {"default-src": [NONE], "sandbox": True, "frame-ancestors": [SELF]}
# Mail HTML that sets a colour of its own keeps the light page it was written for; the rest (plain
# text, and HTML without colours) follows the user's light or dark theme.
OWN_COLOURS = re.compile(r"color\s*:|background|bgcolor\s*=|<font[^>]*\scolor", re.I)


def shown_date(parsed: ParsedMessage, zone: ZoneInfo) -> str:
    if parsed.date is None:
        return _("no date")
    moment = parsed.date if timezone.is_aware(parsed.date) else parsed.date.replace(tzinfo=UTC)
    return dates.shown(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def _neighbours(folder: Folder, summary: MessageSummary | None) -> dict[str, int | None]:
    """The UIDs of the messages just above (newer) and just below (older) this one in the
    folder's list, whose order is the model's (-date, -uid), for the Newer/Older links (and
    the j/k keys). Where the rows without a date sort is the database's business, as in the
    list: last on SQLite (NULL is the smallest value), first on PostgreSQL."""
    if summary is None:
        return {"newer": None, "older": None}
    moment, uid = summary.date, summary.uid
    if moment is None:
        older, newer = Q(date__isnull=True, uid__lt=uid), Q(date__isnull=True, uid__gt=uid)
    else:
        older = Q(date__lt=moment) | Q(date=moment, uid__lt=uid)
        newer = Q(date__gt=moment) | Q(date=moment, uid__gt=uid)
    rows = folder.messages.all()
    nulls_last = not connections[rows.db].features.nulls_order_largest  # in the list's descending order
    dated, undated = Q(date__isnull=False), Q(date__isnull=True)
    if moment is None:
        newer, older = (newer | dated, older) if nulls_last else (newer, older | dated)
    else:
        newer, older = (newer, older | undated) if nulls_last else (newer | undated, older)
    return {
        "older": rows.filter(older).order_by("-date", "-uid").values_list("uid", flat=True).first(),
        "newer": rows.filter(newer).order_by("date", "uid").values_list("uid", flat=True).first(),
    }


@login_required
@never_cache
@vary_on_headers("HX-Request")
def message_view(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    folder, folders = folder_and_siblings(request, folder_id)
    uid = check_uid(uid)
    if folder.is_drafts:  # a draft opens in the composer, to be finished
        return redirect("outbox:draft_open", folder_id=folder.pk, uid=uid)
    summary = folder.messages.filter(uid=uid).first()
    try:
        raw = store.open_message(folder, uid, summary)
    except MailServerError as exc:
        context = {"folder": folder, "error": server_problem(exc)}
        return render_page(request, "webmail/unavailable.html", folder.account, context, status=502, folders=folders)
    if raw is None:
        raise Http404(_("This message is no longer on the server."))
    parsed = read(raw)
    warnings = sender_warnings(parsed)
    clicked = request.GET.get("images") == "1"
    images = images_for(request.user, raw, parsed, warnings, clicked)
    body = body_of(folder, uid, raw, parsed, images.allowed, text=False)
    remote_images, listed, sender = body.remote_images, images.listed, images.sender
    zone = request.user.zone
    body_url = reverse("mailbox:body", args=[folder.pk, uid])
    context = {
        "folder": folder,
        "uid": uid,
        "summary": summary,
        "message": parsed,
        "warnings": warnings,
        "date": shown_date(parsed, zone),
        "truncated": parsed.truncated or body.truncated,
        "text_instead": body.text_instead,
        "remote_images": remote_images and not images.allowed,
        "images_written": sender if remote_images and images.written else "",
        # "Always for this sender": offered for a sender the trust checks do not flag; the line
        # about a listed sender (shown, or blocked because this message is flagged) carries the
        # button that takes the sender off the list again.
        "images_sender": sender if remote_images and not listed else "",
        "images_listed": RemoteImagesAllowed.normalize(parsed.from_address) if remote_images and listed else "",
        "images_always": listed and bool(sender),
        "body_url": f"{body_url}?images=1" if clicked else body_url,
        "images_url": f"{body_url}?images=1",
        "raster_types": RASTER_TYPES,
        "thread_size": (
            MessageSummary.objects.filter(folder__account=folder.account, thread_key=summary.thread_key).count()
            if summary is not None and summary.thread_key
            else 1
        ),
        # Asked for by the reading pane beside the list (static/js/layout.js): the message alone.
        "pane": bool(request.htmx),
        **_neighbours(folder, summary),
    }
    template = "webmail/_message.html" if request.htmx else "webmail/message.html"
    return render_page(request, template, folder.account, context, folders=folders)


def body_policy(request: HttpRequest, folder: Folder, uid: int, images: bool) -> dict:
    # The body document is mail: it gets nothing but its images and its stylesheet. The iframe
    # is sandboxed without allow-scripts, and this policy sandboxes the document again should it
    # be opened on its own. allow-same-origin only lets our page measure the document's height
    # (static/js/layout.js): the document itself can run no script at all, so it can reach
    # nothing of the page's. Mail keeps inline style="" attributes
    # (filtered by the sanitizer), which need 'unsafe-inline' for styles; that is acceptable
    # here only because this document can run no script at all (default-src 'none').
    cid_prefix = request.build_absolute_uri(reverse("mailbox:message", args=[folder.pk, uid]) + "cid/")
    return {
        "default-src": [NONE],
        "img-src": ["data:", cid_prefix, *(["https:", "http:"] if images else [])],
        "style-src": [request.build_absolute_uri(static("css/mail-body.css")), UNSAFE_INLINE],
        "frame-ancestors": [SELF],
        "base-uri": [NONE],
        "form-action": [NONE],
        "sandbox": ["allow-same-origin", "allow-popups", "allow-popups-to-escape-sandbox"],
    }


@login_required
@never_cache
@xframe_options_sameorigin
def message_body(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    uid = check_uid(uid)
    images = request.GET.get("images") == "1"
    status, body, error, themed = 200, "", "", True
    try:
        raw = store.load_raw(folder, uid)
    except MailServerError as exc:
        raw, status, error = None, 502, server_problem(exc)
    if raw is None and not error:
        raise Http404
    if raw is not None:
        parsed = read(raw)
        images = images_for(request.user, raw, parsed, None, images).allowed
        shown = body_of(folder, uid, raw, parsed, images)
        body = shown.html
        themed = not (parsed.html_body and not shown.text_instead and OWN_COLOURS.search(body))
    # The one mark_safe of the mailbox: the sanitizer's output, in this sandboxed document only.
    context = {
        "body": mark_safe(body),  # noqa: S308
        "error": error,
        "themed": themed,
        "theme": request.user.theme,
    }
    response = render(request, "webmail/body.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return csp(body_policy(request, folder, uid, images))(lambda: response)()


@require_POST
@login_required
def images_always(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    """Always show remote images from the sender of this message (see sender_for_images).

    The address comes from the message on the server, never from the form: only a sender this
    message's checks trust can be added. Adding a listed sender again changes nothing."""
    folder = user_folder(request, folder_id)
    uid = check_uid(uid)
    back = reverse("mailbox:message", args=[folder.pk, uid])
    try:
        raw = store.load_raw(folder, uid)
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
        return redirect(back)
    if raw is None:
        raise Http404
    parsed = read(raw)
    sender = sender_for_images(raw, parsed, sender_warnings(parsed))
    if not sender:
        messages.error(
            request,
            _("Remote images cannot always be shown for this sender: the message may not come from who it claims."),
        )
        return redirect(back)
    RemoteImagesAllowed.objects.get_or_create(user=request.user, address=sender)
    messages.success(request, _("Remote images from %(address)s will always be shown.") % {"address": sender})
    return redirect(back)


@require_POST
@login_required
def images_forget(request: HttpRequest) -> HttpResponse:
    """Take a sender off the user's "always show remote images" list; idempotent.

    Only the signed-in user's own rows are ever looked at, whatever address is posted."""
    address = RemoteImagesAllowed.normalize(request.POST.get("address", ""))
    if address:
        RemoteImagesAllowed.objects.filter(user=request.user, address=address).delete()
        messages.success(
            request, _("Remote images from %(address)s will no longer be shown by default.") % {"address": address}
        )
    return redirect(next_url(request, reverse("accounts:settings")))


def _part_response(data: bytes, filename: str, content_type: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type if inline else "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=not inline, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _raw_or_error(request: HttpRequest, folder: Folder, uid: int) -> bytes | HttpResponse:
    try:
        raw = store.load_raw(folder, uid)
    except MailServerError as exc:
        return HttpResponse(server_problem(exc), status=502, content_type="text/plain; charset=utf-8")
    if raw is None:
        raise Http404
    return raw


@login_required
@never_cache
@csp(PART_POLICY)
def part(request: HttpRequest, folder_id: int, uid: int, index: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    raw = _raw_or_error(request, folder, check_uid(uid))
    if isinstance(raw, HttpResponse):
        return raw
    found = part_bytes(raw, index)
    if found is None:
        raise Http404
    info, data = found
    inline = request.GET.get("inline") == "1" and info.content_type in RASTER_TYPES
    return _part_response(data, info.filename, info.content_type, inline=inline)


@second_factor_exempt  # the token stands for a verified session; a session, if sent, is checked below
@never_cache
@csp(PART_POLICY)
def cid(request: HttpRequest, folder_id: int, uid: int, content_id: str) -> HttpResponse:
    """An inline image of a message, for its sandboxed body document.

    That document has an opaque origin, so the browser treats its image requests as
    cross-site and sends no SameSite session cookie: the body view puts a signed, short-lived
    token for (owner, folder, UID) in each image URL instead. A signed-in owner also passes.
    """
    folder = Folder.objects.select_related("account").filter(pk=folder_id).first()
    user = request.user
    token = request.GET.get("t", "")
    if folder is None:
        raise Http404
    verified = getattr(user, "is_verified", lambda: False)()
    owner = user.is_authenticated and verified and folder.account.user_id == user.pk
    if not owner and not (token and tokens.cid_token_ok(folder, uid, token)):
        if not user.is_authenticated and not token:
            return redirect_to_login(request.get_full_path())
        raise Http404
    raw = _raw_or_error(request, folder, check_uid(uid))
    if isinstance(raw, HttpResponse):
        return raw
    index = inline_images(raw, read(raw)).get(content_id)
    found = part_bytes(raw, index) if index is not None else None
    if found is None or found[0].content_type not in RASTER_TYPES:
        raise Http404
    info, data = found
    return _part_response(data, info.filename, info.content_type, inline=True)
