"""A message as it is: its source as plain text, the whole of it as an .eml download, and the
print page of a message or a conversation.

Mail is never rendered as our HTML here. The source is text/plain under a sandboxing policy
and ``nosniff``; the download is an attachment. The print page is a document of its own, like
the reading pane's body: a sandbox without same-origin (so no cookie or page of ours is within
its reach), the sanitizer's output, and one script, ours, that opens the print dialog.
"""

from __future__ import annotations

import re

from csp.constants import NONE, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from webmail.mailbox import store, tools
from webmail.mailbox.message import read
from webmail.mailbox.models import Folder, MessageSummary
from webmail.mailbox.views.bodies import body_of, images_for
from webmail.mailbox.views.pages import check_uid, server_problem, user_folder
from webmail.mailbox.views.reading import shown_date
from webmail.protocol.mailservers import MailServerError

# The source and the download: nothing in them may run, load or be framed.
RAW_POLICY = {"default-src": [NONE], "sandbox": True, "frame-ancestors": [NONE]}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@never_cache
@csp(RAW_POLICY)
def source(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    """The message's source, headers first, as text; a large one is cut after its first MiB."""
    folder = user_folder(request, folder_id)
    uid = check_uid(uid)
    try:
        found = tools.source_head(folder, uid)
    except MailServerError as exc:
        return _plain(server_problem(exc), 502)
    if found is None:
        raise Http404
    head, size = found
    if size > len(head):
        note = _("[Cut here: %(shown)s of %(size)s are shown. Download the message to see all of it.]") % {
            "shown": filesizeformat(len(head)),
            "size": filesizeformat(size),
        }
        head += f"\r\n\r\n{note}\r\n".encode()
    response = HttpResponse(head, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


def eml_name(subject: str) -> str:
    name = " ".join(_UNSAFE_NAME.sub(" ", subject).split())[:80].strip(" .")
    return f"{name or _('message')}.eml"


@login_required
@never_cache
@csp(RAW_POLICY)
def download(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    """The whole message as an .eml file, streamed from the server a slice at a time."""
    folder = user_folder(request, folder_id)
    uid = check_uid(uid)
    reader = tools.SourceReader(folder, uid)
    try:
        if not reader.open():
            raise Http404
    except MailServerError as exc:
        return _plain(server_problem(exc), 502)
    # Under ASGI an async iterator, else Django reads the whole message before sending a byte.
    content = reader.aslices() if isinstance(request, ASGIRequest) else reader.slices()
    response = StreamingHttpResponse(content, content_type="message/rfc822")
    summary = folder.messages.filter(uid=uid).only("subject").first()
    name = eml_name(summary.subject if summary is not None else "")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- printing --------------------------------------------------------------------------------


def _print_policy(request: HttpRequest, items: list[dict], images: bool) -> dict:
    cid_prefixes = {
        request.build_absolute_uri(reverse("mailbox:message", args=[item["folder"].pk, item["uid"]]) + "cid/")
        for item in items
    }
    return {
        "default-src": [NONE],
        "img-src": ["data:", *sorted(cid_prefixes), *(["https:", "http:"] if images else [])],
        # Mail keeps filtered style="" attributes: acceptable only because no script but ours runs.
        "style-src": [request.build_absolute_uri(static("css/print.css")), UNSAFE_INLINE],
        "script-src": [request.build_absolute_uri(static("js/print.js"))],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "form-action": [NONE],
        "sandbox": ["allow-scripts", "allow-modals", "allow-popups", "allow-popups-to-escape-sandbox"],
    }


def _printed(request: HttpRequest, folder: Folder, uid: int, images: bool) -> dict | None:
    raw = store.load_raw(folder, uid)
    if raw is None:
        return None
    parsed = read(raw)
    allowed = images_for(request.user, raw, parsed, None, images).allowed
    body = body_of(folder, uid, raw, parsed, allowed)
    # The sanitizer's output, in this sandboxed document only.
    item = {"folder": folder, "uid": uid, "message": parsed, "body": mark_safe(body.html)}  # noqa: S308
    return item | {"date": shown_date(parsed, request.user.zone), "images": allowed, "text_instead": body.text_instead}


def _print_page(request: HttpRequest, items: list[dict], title: str) -> HttpResponse:
    response = render(request, "webmail/print.html", {"items": items, "title": title})
    response["Referrer-Policy"] = "no-referrer"
    return csp(_print_policy(request, items, any(item["images"] for item in items)))(lambda: response)()


@login_required
@never_cache
def print_message(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    uid = check_uid(uid)
    try:
        item = _printed(request, folder, uid, request.GET.get("images") == "1")
    except MailServerError as exc:
        return _plain(server_problem(exc), 502)
    if item is None:
        raise Http404
    return _print_page(request, [item], item["message"].subject or _("(no subject)"))


@login_required
@never_cache
def print_thread(request: HttpRequest, folder_id: int, summary_id: int) -> HttpResponse:
    """Every message of the conversation, oldest first, as the conversation page lists them."""
    folder = user_folder(request, folder_id)
    summary = get_object_or_404(MessageSummary, pk=summary_id, folder=folder)
    rows = MessageSummary.objects.filter(pk=summary.pk)
    if summary.thread_key and summary.thread_key != "subject:":
        rows = MessageSummary.objects.filter(folder__account=folder.account, thread_key=summary.thread_key)
    items = []
    with timezone.override(request.user.zone):
        try:
            for row in rows.select_related("folder", "folder__account").order_by("date", "uid"):
                item = _printed(request, row.folder, row.uid, False)
                if item is not None:  # gone from the server since the last sync
                    items.append(item)
        except MailServerError as exc:
            return _plain(server_problem(exc), 502)
    return _print_page(request, items, summary.subject or _("(no subject)"))
