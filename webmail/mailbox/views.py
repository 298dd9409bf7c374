"""The mailbox pages: folders, message lists, conversations, search, the reading pane.

Lists come from the envelope cache (``webmail.mailbox.models``) and never wait for IMAP, except the
first time a folder is opened; everything that changes mail goes to the server first
(``webmail.mailbox.store``). Mail content is shown only inside a sandboxed iframe whose document
has a policy of its own (see ``message_body``).

When the mail server fails while a page needs it, the page still renders (sidebar, cached
list, a banner in plain words) with status 502: the failure is upstream, and saying so keeps
monitoring and proxies honest. Nothing our htmx polling asks for talks to IMAP, so a 502 never
lands where htmx would drop it.
"""

from __future__ import annotations

import email.policy
import logging
import time
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.http import next_url, own_account
from accounts.middleware import second_factor_exempt
from accounts.models import MailAccount
from webmail.mailbox import listing, store, tasks
from webmail.mailbox.forms import FolderNameForm, SearchForm
from webmail.mailbox.message import ParsedMessage, parse, part_bytes, read
from webmail.mailbox.models import Folder, MessageSummary, RemoteImagesAllowed, SpecialUse
from webmail.mailbox.sanitize import sanitize_html, text_to_html
from webmail.mailbox.trust import sender_warnings
from webmail.protocol.mailservers import MailServerError

log = logging.getLogger(__name__)

PAGE_SIZE = 50
POLL_SECONDS = 2
# Polling stops after this long even if the sync never finished (no worker running, say).
POLL_LIMIT_SECONDS = 300
MAX_BULK = 1000
# Shown inline on request; anything else (SVG, HTML, XML, PDF...) is only ever downloaded.
RASTER_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
CID_TOKEN_SALT = "webmail.views.cid"
CID_TOKEN_MAX_AGE = 3600
OUTSIDE_FOLDERS = (SpecialUse.SENT, SpecialUse.DRAFTS)  # lists show the recipients, not the sender
# A downloaded or inline-shown part is a document of its own: it may do nothing at all.
PART_POLICY = {"default-src": [NONE], "sandbox": True, "frame-ancestors": [SELF]}


# -- lookups ----------------------------------------------------------------------------------


def _get_folder_for_user(request: HttpRequest, folder_id) -> Folder:
    return get_object_or_404(Folder.objects.select_related("account"), pk=folder_id, account__user=request.user)


def _folder_and_siblings(request: HttpRequest, folder_id: int) -> tuple[Folder, list[Folder]]:
    """The user's folder and every folder of its account (the sidebar's), in one query; the
    folder is the list's own object, so a sync or recount of it shows in the sidebar too."""
    folders = list(
        Folder.objects.select_related("account").filter(account__user=request.user, account__folders__pk=folder_id)
    )
    folder = next((item for item in folders if item.pk == folder_id), None)
    if folder is None:
        raise Http404
    return folder, folders


def _check_uid(uid: int) -> int:
    if uid < 1:
        raise Http404
    return uid


def server_problem(exc: MailServerError) -> str:
    return _("The mail server did not answer: %(reason)s") % {"reason": exc}


# -- what every mailbox page shows ------------------------------------------------------------


def _label(folder: Folder) -> str:
    return _("Inbox") if folder.special_use == SpecialUse.INBOX else getattr(folder, "leaf", "") or folder.name


def _page(request: HttpRequest, template: str, account: MailAccount, context: dict, status: int = 200, folders=None):
    """Render a mailbox page: the account's folder tree in the sidebar, in the user's time zone.

    ``folders``: the account's Folder rows, when the view has them already."""
    folders = store.sorted_folders(Folder.objects.filter(account=account) if folders is None else folders)
    folder_url = listing.url_maker("mailbox:folder")  # the sidebar's links and icons, without template tags
    icons: dict[str, str] = {}
    for item in folders:
        item.label = _label(item)
        item.indent = min(item.depth, 6)
        item.icon = f"img/mail/{item.special_use or 'folder'}.svg"
        item.icon_url = icons.get(item.icon) or icons.setdefault(item.icon, static(item.icon))
        item.url = folder_url(item.pk)
        unread = ngettext("%(counter)s unread message", "%(counter)s unread messages", item.unread)
        item.unread_title = unread % {"counter": item.unread}
        item.protected = _protected(item)
    current = context.get("folder")
    if current is not None:
        current.label = next((item.label for item in folders if item.pk == current.pk), current.name)
    # One query for the account switcher and the SMTP-hold banner (which outbox's context
    # processor would otherwise ask for separately); only the columns they show.
    accounts = list(request.user.mail_accounts.order_by("label", "pk").only("pk", "user", "label", "smtp_held_at"))
    zone = request.user.zone
    base = {
        "account": account,
        "folders": folders,
        "accounts": accounts if len(accounts) > 1 else [],
        "smtp_held": any(other.smtp_held_at is not None for other in accounts),
    }
    with timezone.override(zone):
        return render(request, template, base | context, status=status)


def _when(moment: datetime | None, dates: listing.Dates) -> str:
    if moment is None:
        return _("no date")
    return dates.when(dates.local(moment))


def _decorate(
    rows: list[MessageSummary] | list[listing.Row],
    account: MailAccount,
    zone: ZoneInfo,
    folder_ids: list[int] | None = None,
    found: bool = True,
) -> list:
    """What the list shows per row: who, when, how long its conversation is, and its markup
    (see webmail/listing.py). ``folder_ids``: the account's folders, when the view has them;
    ``found``: the rows are search results (else a folder's list)."""
    dates = listing.Dates(zone)
    markup = listing.RowMarkup(dates)
    keys = {row.thread_key for row in rows if row.thread_key}
    if folder_ids is None:
        folder_ids = list(account.folders.values_list("id", flat=True))
    sizes = listing.thread_sizes(keys, folder_ids)
    for row in rows:
        row.when = _when(row.date, dates)
        if row.folder.special_use in OUTSIDE_FOLDERS and row.to:
            row.who = _("To: %(recipients)s") % {"recipients": row.to}
        else:
            row.who = row.from_name or row.from_address or _("(unknown sender)")
        row.thread_size = sizes.get(row.thread_key, 1) if row.thread_key else 1
        markup.fill(row, found=found)
    return rows


# -- entry points -----------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    accounts = list(request.user.mail_accounts.all())
    if accounts:
        return redirect("mailbox:index")
    return render(request, "webmail/home.html", {"accounts": accounts})


@login_required
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    account = request.user.mail_accounts.order_by("label", "pk").first()
    if account is None:
        return redirect("webmail:home")
    return _open_inbox(request, account)


@login_required
@never_cache
def account_inbox(request: HttpRequest, account_id) -> HttpResponse:
    return _open_inbox(request, own_account(request, account_id))


def _open_inbox(request: HttpRequest, account: MailAccount) -> HttpResponse:
    if not Folder.objects.filter(account=account).exists():
        try:
            store.refresh_folder_list(account)
        except MailServerError as exc:
            return _page(request, "webmail/unavailable.html", account, {"error": server_problem(exc)}, status=502)
    folder = store.special_folder(account, SpecialUse.INBOX)
    if folder is None:
        selectable = store.sorted_folders(Folder.objects.filter(account=account, selectable=True))
        folder = selectable[0] if selectable else None
    if folder is None:
        return _page(request, "webmail/unavailable.html", account, {"error": _("This account has no folders.")})
    return redirect("mailbox:folder", folder_id=folder.pk)


# -- a folder's messages ----------------------------------------------------------------------


def _sync_state(folder: Folder, *, started: float, published: bool) -> dict:
    """What the list says about syncing, and whether it polls: only while a published sync
    task may still change something, and not forever (no worker running, say)."""
    synced_epoch = folder.synced_at.timestamp() if folder.synced_at else 0
    loading = folder.selectable and folder.synced_at is not None and not folder.is_complete
    refreshing = published and synced_epoch < started
    polling = (
        published and (loading or refreshing) and not folder.sync_error and time.time() - started < POLL_LIMIT_SECONDS
    )
    return {"loading": loading, "refreshing": refreshing, "polling": polling, "started": int(started)}


@login_required
@never_cache
@vary_on_headers("HX-Request")
def folder_view(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder, folders = _folder_and_siblings(request, folder_id)
    error = None
    published = False
    try:
        started = float(request.GET.get("t", ""))
        published = True  # a poll of a page that asked for a sync
    except ValueError:
        started = time.time()
    if not request.htmx and folder.selectable:
        had_cache = folder.synced_at is not None
        if not had_cache:
            try:
                folder = store.head_sync(folder)
            except MailServerError as exc:
                error = server_problem(exc)
        if error is None and (had_cache or not folder.is_complete):
            if folder.sync_error:  # no write on every page view
                Folder.objects.filter(pk=folder.pk).update(sync_error="")
                folder.sync_error = ""
            published = tasks.publish_folder_sync(folder)
    paginator = Paginator(folder.messages.all(), PAGE_SIZE)
    # The sync keeps the folder's count: no COUNT(*) over a large folder on every page.
    paginator.count = folder.total
    page = paginator.get_page(request.GET.get("page"))
    bottom = (page.number - 1) * PAGE_SIZE
    rows = listing.page_rows(folder, bottom, min(bottom + PAGE_SIZE, paginator.count))
    for row in rows:
        row.folder = folder  # one folder: no join needed to know it
    zone = request.user.zone
    page.object_list = _decorate(rows, folder.account, zone, folder_ids=[item.pk for item in folders], found=False)
    state = _sync_state(folder, started=started, published=published)
    query = {"page": page.number, **({"t": state["started"]} if published else {})}
    context = {
        "folder": folder,
        "page": page,
        "error": error,
        "poll_url": f"{reverse('mailbox:folder', args=[folder.pk])}?{urlencode(query)}",
        "poll_seconds": POLL_SECONDS,
        "search_form": SearchForm(),
        **state,
    }
    if request.htmx:
        with timezone.override(zone):
            return render(request, "webmail/_list.html", context)
    status = 502 if error else 200
    return _page(request, "webmail/folder.html", folder.account, context, status=status, folders=folders)


@require_POST
@login_required
def bulk(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    back = next_url(request, reverse("mailbox:folder", args=[folder.pk]))
    action = request.POST.get("action", "")
    if action not in store.ACTIONS:
        return HttpResponseBadRequest(_("Unknown action."))
    try:
        uids = sorted({int(value) for value in request.POST.getlist("uid")})
        target = int(request.POST["target"]) if action == "move" and request.POST.get("target") else None
    except ValueError:
        return HttpResponseBadRequest(_("Bad message selection."))
    if any(uid < 1 for uid in uids) or len(uids) > MAX_BULK:
        return HttpResponseBadRequest(_("Bad message selection."))
    if not uids:
        messages.warning(request, _("Select at least one message first."))
        return redirect(back)
    try:
        outcome = store.apply_action(folder, action, uids, target)
    except store.ActionRefused as exc:
        messages.error(request, str(exc))
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
    else:
        messages.success(request, _done(action, outcome))
        if outcome.target is not None and outcome.target.synced_at is None:
            tasks.publish_folder_sync(outcome.target)
    return redirect(back)


def _done(action: str, outcome: store.Outcome) -> str:
    n = outcome.count
    if action in store.FLAG_ACTIONS:
        return {
            "read": ngettext("%(n)d message marked as read.", "%(n)d messages marked as read.", n),
            "unread": ngettext("%(n)d message marked as unread.", "%(n)d messages marked as unread.", n),
            "flag": ngettext("%(n)d message flagged.", "%(n)d messages flagged.", n),
            "unflag": ngettext("%(n)d message unflagged.", "%(n)d messages unflagged.", n),
        }[action] % {"n": n}
    if outcome.target is None:
        return ngettext("%(n)d message deleted for good.", "%(n)d messages deleted for good.", n) % {"n": n}
    return ngettext("%(n)d message moved to %(folder)s.", "%(n)d messages moved to %(folder)s.", n) % {
        "n": n,
        "folder": outcome.target.name,
    }


# -- conversations and search -----------------------------------------------------------------


@login_required
@never_cache
def thread(request: HttpRequest, folder_id: int, summary_id: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    summary = get_object_or_404(MessageSummary, pk=summary_id, folder=folder)
    if summary.thread_key and summary.thread_key != "subject:":
        rows = MessageSummary.objects.filter(folder__account=folder.account, thread_key=summary.thread_key)
    else:
        rows = MessageSummary.objects.filter(pk=summary.pk)
    rows = list(rows.select_related("folder", "folder__account").order_by("date", "uid"))
    error = None
    try:
        store.mark_thread_seen(rows)
    except MailServerError as exc:
        error = server_problem(exc)
    zone = request.user.zone
    for row in rows:
        row.shown_date = (
            date_format(timezone.localtime(row.date, zone), "DATETIME_FORMAT") if row.date else _("no date")
        )
    context = {"folder": folder, "summary": summary, "thread": rows, "error": error}
    return _page(request, "webmail/thread.html", folder.account, context, status=502 if error else 200)


@login_required
@never_cache
def search(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    form = SearchForm(request.GET if request.GET else None)
    error = None
    page = None
    incomplete: list[Folder] = []
    if form.is_bound and form.is_valid() and not form.is_empty:
        if form.cleaned_data.get("scope") == "all":
            folders = list(Folder.objects.filter(account=folder.account, selectable=True).select_related("account"))
        else:
            folders = [folder]
        incomplete = [f for f in folders if not f.is_complete]
        for unsynced in incomplete:  # found once their cache is filled
            tasks.publish_folder_sync(unsynced)
        folders = [f for f in folders if f.synced_at is not None]
        criteria = form.criteria()
        try:
            results = store.search(folders, criteria) if criteria else MessageSummary.objects.filter(folder__in=folders)
        except MailServerError as exc:
            error = server_problem(exc)
        else:
            if form.cleaned_data.get("attachments"):
                results = results.filter(has_attachments=True)
            results = results.select_related("folder").order_by("-date", "-uid")
            page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
            page.object_list = _decorate(list(page.object_list), folder.account, request.user.zone)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "folder": folder,
        "search_form": form,
        "page": page,
        "error": error,
        "incomplete": incomplete,
        "query": query.urlencode(),
        "all_folders": form.is_bound and form.is_valid() and form.cleaned_data.get("scope") == "all",
    }
    return _page(request, "webmail/search.html", folder.account, context, status=502 if error else 200)


# -- one message ------------------------------------------------------------------------------


def _cid_token(folder: Folder, uid: int) -> str:
    value = signing.TimestampSigner(salt=CID_TOKEN_SALT).sign(f"{folder.account.user_id}:{folder.pk}:{uid}")
    return value.split(":", 3)[3]  # timestamp:signature; the rest the view knows


def _cid_token_ok(folder: Folder, uid: int, token: str) -> bool:
    value = f"{folder.account.user_id}:{folder.pk}:{uid}:{token}"
    try:
        signing.TimestampSigner(salt=CID_TOKEN_SALT).unsign(value, max_age=CID_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return True


def _inline_images(raw: bytes, parsed: ParsedMessage) -> dict[str, int]:
    """Content-ID -> part index, for the raster image parts an <img src="cid:..."> may show."""
    images = dict(parsed.inline_parts)
    for item in parsed.attachments:
        if item.content_id:
            images.setdefault(item.content_id, item.index)
    types = {index: item.get_content_type() for index, item in enumerate(parse(raw).walk())}
    return {cid: index for cid, index in images.items() if types.get(index) in RASTER_TYPES}


def _shown_date(parsed: ParsedMessage, zone: ZoneInfo) -> str:
    if parsed.date is None:
        return _("no date")
    moment = parsed.date if timezone.is_aware(parsed.date) else parsed.date.replace(tzinfo=UTC)
    return date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def _sanitized(folder: Folder, uid: int, raw: bytes, parsed: ParsedMessage, images: bool):
    cids = _inline_images(raw, parsed)
    token = _cid_token(folder, uid)

    def cid_url(content_id: str) -> str:
        if content_id not in cids:
            return ""  # the sanitizer drops the image
        return f"{reverse('mailbox:cid', args=[folder.pk, uid, content_id])}?{urlencode({'t': token})}"

    return sanitize_html(parsed.html_body, cid_url=cid_url, allow_remote_images=images)


@login_required
@never_cache
def message_view(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    folder, folders = _folder_and_siblings(request, folder_id)
    uid = _check_uid(uid)
    summary = folder.messages.filter(uid=uid).first()
    try:
        raw = store.open_message(folder, uid, summary)
    except MailServerError as exc:
        context = {"folder": folder, "error": server_problem(exc)}
        return _page(request, "webmail/unavailable.html", folder.account, context, status=502, folders=folders)
    if raw is None:
        raise Http404(_("This message is no longer on the server."))
    parsed = read(raw)
    warnings = sender_warnings(parsed)
    sender = _sender_for_images(raw, parsed, warnings)
    listed = _images_listed(request.user, parsed.from_address)
    clicked = request.GET.get("images") == "1"
    images = clicked or (listed and bool(sender))
    remote_images = truncated = False
    if parsed.html_body:
        cleaned = _sanitized(folder, uid, raw, parsed, images)
        remote_images, truncated = cleaned.has_remote_images, cleaned.truncated
    zone = request.user.zone
    body_url = reverse("mailbox:body", args=[folder.pk, uid])
    context = {
        "folder": folder,
        "uid": uid,
        "summary": summary,
        "message": parsed,
        "warnings": warnings,
        "date": _shown_date(parsed, zone),
        "truncated": parsed.truncated or truncated,
        "remote_images": remote_images and not images,
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
    }
    return _page(request, "webmail/message.html", folder.account, context, folders=folders)


def _images_listed(user, address: str) -> bool:
    """Whether the user put this From address on their "always show remote images" list."""
    address = RemoteImagesAllowed.normalize(address)
    return bool(address) and RemoteImagesAllowed.objects.filter(user=user, address=address).exists()


def _sender_for_images(raw: bytes, parsed: ParsedMessage, warnings: list[str]) -> str:
    """The normalized From address that "always show remote images from this sender" may name
    for this message, or "" when the sender cannot be trusted that far.

    Remote images are blocked because loading them tells whoever wrote the message that, when
    and from where it was read. An allowance keyed on the From address hands that to anyone
    who can write the address into a From header, so it counts (and can be given) only for a
    message the sender warnings do not flag: no DMARC or SPF failure reported by our own MTA,
    no other address shown in the display name, no mixed-script (homograph) domain. A flagged
    message keeps its images blocked even when its From address is on the list. We also want
    exactly one From header naming exactly one mailbox (DMARC's own precondition): the parser
    reads only the first address, and the others would ride on its allowance.
    What this cannot catch is a forged From of a domain that publishes neither DMARC nor SPF:
    for such a sender the allowance is only as strong as the domain's own protection, and the
    cost of a forgery is an open receipt (the body stays sandboxed, without script).
    """
    if warnings:
        return ""
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    if sum(1 for name, _value in headers.raw_items() if name.lower() == "from") != 1:
        return ""
    if len(getaddresses([parsed.from_])) != 1:
        return ""
    address = RemoteImagesAllowed.normalize(parsed.from_address)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or len(address) > 320 or any(ch.isspace() or ch in '<>,;"' for ch in address):
        return ""
    return address


def _body_policy(request: HttpRequest, folder: Folder, uid: int, images: bool) -> dict:
    # The body document is mail: it gets nothing but its images and its stylesheet. The iframe
    # is sandboxed without allow-scripts or allow-same-origin, and this policy sandboxes the
    # document again should it be opened on its own. Mail keeps inline style="" attributes
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
        "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
    }


@login_required
@never_cache
@xframe_options_sameorigin
def message_body(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    uid = _check_uid(uid)
    images = request.GET.get("images") == "1"
    status, body, error = 200, "", ""
    try:
        raw = store.load_raw(folder, uid)
    except MailServerError as exc:
        raw, status, error = None, 502, server_problem(exc)
    if raw is None and not error:
        raise Http404
    if raw is not None:
        parsed = read(raw)
        if not images and _images_listed(request.user, parsed.from_address):
            images = bool(_sender_for_images(raw, parsed, sender_warnings(parsed)))
        html = parsed.html_body
        body = _sanitized(folder, uid, raw, parsed, images).html if html else text_to_html(parsed.text_body)
    # The one mark_safe of the mailbox: the sanitizer's output, in this sandboxed document only.
    context = {"body": mark_safe(body), "error": error}  # noqa: S308
    response = render(request, "webmail/body.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return csp(_body_policy(request, folder, uid, images))(lambda: response)()


@require_POST
@login_required
def images_always(request: HttpRequest, folder_id: int, uid: int) -> HttpResponse:
    """Always show remote images from the sender of this message (see _sender_for_images).

    The address comes from the message on the server, never from the form: only a sender this
    message's checks trust can be added. Adding a listed sender again changes nothing."""
    folder = _get_folder_for_user(request, folder_id)
    uid = _check_uid(uid)
    back = reverse("mailbox:message", args=[folder.pk, uid])
    try:
        raw = store.load_raw(folder, uid)
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
        return redirect(back)
    if raw is None:
        raise Http404
    parsed = read(raw)
    sender = _sender_for_images(raw, parsed, sender_warnings(parsed))
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
    folder = _get_folder_for_user(request, folder_id)
    raw = _raw_or_error(request, folder, _check_uid(uid))
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
    if not owner and not (token and _cid_token_ok(folder, uid, token)):
        if not user.is_authenticated and not token:
            return redirect_to_login(request.get_full_path())
        raise Http404
    raw = _raw_or_error(request, folder, _check_uid(uid))
    if isinstance(raw, HttpResponse):
        return raw
    index = _inline_images(raw, read(raw)).get(content_id)
    found = part_bytes(raw, index) if index is not None else None
    if found is None or found[0].content_type not in RASTER_TYPES:
        raise Http404
    info, data = found
    return _part_response(data, info.filename, info.content_type, inline=True)


# -- managing folders -------------------------------------------------------------------------


@login_required
@never_cache
def manage_folders(request: HttpRequest, account_id) -> HttpResponse:
    account = own_account(request, account_id)
    error = None
    try:
        store.refresh_folder_list(account)
    except MailServerError as exc:
        error = server_problem(exc)
    context = {"error": error, "form": FolderNameForm(), "managing": True}
    return _page(request, "webmail/folders.html", account, context, status=502 if error else 200)


def _protected(folder: Folder) -> bool:
    return folder.special_use != SpecialUse.NONE or folder.name.upper() == "INBOX"


@require_POST
@login_required
def folder_create(request: HttpRequest, account_id) -> HttpResponse:
    account = own_account(request, account_id)
    parent = None
    if request.POST.get("parent"):
        try:
            parent = Folder.objects.filter(account=account, pk=int(request.POST["parent"])).first()
        except ValueError:
            parent = None
        if parent is None:
            return HttpResponseBadRequest(_("Unknown parent folder."))
    delimiter = parent.delimiter if parent else (Folder.objects.filter(account=account).first() or Folder()).delimiter
    form = FolderNameForm(request.POST, delimiter=delimiter)
    full_name = store.full_name(form.cleaned_data["name"], parent) if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
    elif full_name.upper() == "INBOX" or Folder.objects.filter(account=account, name=full_name).exists():
        messages.error(request, _("There is already a folder called “%(name)s”.") % {"name": full_name})
    else:
        try:
            store.create_folder(account, form.cleaned_data["name"], parent)
        except MailServerError as exc:
            messages.error(request, server_problem(exc))
        else:
            messages.success(request, _("Folder “%(name)s” created.") % {"name": form.cleaned_data["name"]})
    return redirect("mailbox:folders", account_id=account.pk)


@require_POST
@login_required
def folder_rename(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    if _protected(folder):
        messages.error(request, _("The Inbox and the special folders cannot be renamed."))
        return redirect("mailbox:folders", account_id=folder.account_id)
    form = FolderNameForm(request.POST, delimiter=folder.delimiter)
    new_name = store.renamed(folder, form.cleaned_data["name"]) if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
    elif new_name.upper() == "INBOX" or Folder.objects.filter(account=folder.account, name=new_name).exists():
        messages.error(request, _("There is already a folder called “%(name)s”.") % {"name": new_name})
    else:
        old = folder.name
        try:
            store.rename_folder(folder, form.cleaned_data["name"])
        except MailServerError as exc:
            messages.error(request, server_problem(exc))
        else:
            messages.success(request, _("“%(old)s” renamed to “%(new)s”.") % {"old": old, "new": folder.name})
    return redirect("mailbox:folders", account_id=folder.account_id)


@require_POST
@login_required
def folder_delete(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = _get_folder_for_user(request, folder_id)
    if _protected(folder):
        messages.error(request, _("The Inbox and the special folders cannot be deleted."))
        return redirect("mailbox:folders", account_id=folder.account_id)
    if request.POST.get("confirm") != "1":
        return _page(request, "webmail/folder_delete.html", folder.account, {"target": folder, "managing": True})
    try:
        store.delete_folder(folder)
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
    else:
        messages.success(request, _("Folder “%(name)s” deleted.") % {"name": folder.name})
    return redirect("mailbox:folders", account_id=folder.account_id)


# -- the site ---------------------------------------------------------------------------------


@second_factor_exempt
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitors: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")


@second_factor_exempt
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages (like the admin's) that do not name an icon.
    return redirect(static("favicon.svg"), permanent=True)
