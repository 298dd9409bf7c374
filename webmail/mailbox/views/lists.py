"""The pages that list mail: the start page, an account's inbox, a folder's messages (with the
bulk actions on them), a conversation, and search.

Lists come from the envelope cache (``webmail.mailbox.models``) and never wait for IMAP, except
the first time a folder is opened; everything that changes mail goes to the server first
(``webmail.mailbox.store``).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import dates
from accounts.http import next_url, own_account
from accounts.models import MailAccount
from webmail.mailbox import listing, live, store, tasks
from webmail.mailbox.forms import SearchForm
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.mailbox.views.pages import (
    PAGE_SIZE,
    decorate,
    folder_and_siblings,
    render_page,
    server_problem,
    user_folder,
)
from webmail.protocol import imap
from webmail.protocol.mailservers import MailServerError

POLL_SECONDS = 2
# Polling stops after this long even if the sync never finished (no worker running, say).
POLL_LIMIT_SECONDS = 300
MAX_BULK = 1000


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
            return render_page(request, "webmail/unavailable.html", account, {"error": server_problem(exc)}, status=502)
    folder = store.special_folder(account, SpecialUse.INBOX)
    if folder is None:
        selectable = store.sorted_folders(Folder.objects.filter(account=account, selectable=True))
        folder = selectable[0] if selectable else None
    if folder is None:
        return render_page(request, "webmail/unavailable.html", account, {"error": _("This account has no folders.")})
    return redirect("mailbox:folder", folder_id=folder.pk)


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
    folder, folders = folder_and_siblings(request, folder_id)
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
            # Folded into a sync asked for moments ago (by another page view): that one's
            # end is what this page waits for, not one that will never come.
            started = min(started, tasks.folder_sync_asked_at(folder) or started)
    paginator = Paginator(folder.messages.all(), PAGE_SIZE)
    # The sync keeps the folder's count: no COUNT(*) over a large folder on every page.
    paginator.count = folder.total
    page = paginator.get_page(request.GET.get("page"))
    bottom = (page.number - 1) * PAGE_SIZE
    rows = listing.page_rows(folder, bottom, min(bottom + PAGE_SIZE, paginator.count))
    for row in rows:
        row.folder = folder  # one folder: no join needed to know it
    zone = request.user.zone
    page.object_list = decorate(rows, folder.account, zone, folder_ids=[item.pk for item in folders], found=False)
    state = _sync_state(folder, started=started, published=published)
    query = {"page": page.number, **({"t": state["started"]} if published else {})}
    context = {
        "folder": folder,
        "page": page,
        "error": error,
        "poll_url": f"{reverse('mailbox:folder', args=[folder.pk])}?{urlencode(query)}",
        # For the live news (static/js/live.js): this page's version of the folder, and where
        # the list is fetched again when a sync changes it.
        "live_version": live.event_of(folder)["version"],
        "refresh_url": f"{reverse('mailbox:folder', args=[folder.pk])}?{urlencode({'page': page.number})}",
        "poll_seconds": POLL_SECONDS,
        "search_form": SearchForm(),
        **state,
    }
    if request.htmx:
        with timezone.override(zone):
            return render(request, "webmail/_list.html", context)
    status = 502 if error else 200
    return render_page(request, "webmail/folder.html", folder.account, context, status=status, folders=folders)


@require_POST
@login_required
def bulk(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    return _act(request, folder, next_url(request, reverse("mailbox:folder", args=[folder.pk])), in_search=False)


@require_POST
@login_required
def search_bulk(request: HttpRequest, folder_id: int) -> HttpResponse:
    """The bulk actions on search results, whose rows come from any folder of the account: each
    ``uid`` is "folder:uid" (the same form fields as ``bulk`` otherwise, so the keys and drag and
    drop work here too)."""
    folder = user_folder(request, folder_id)
    return _act(request, folder, next_url(request, reverse("mailbox:search", args=[folder.pk])), in_search=True)


def _act(request: HttpRequest, folder: Folder, back: str, *, in_search: bool) -> HttpResponse:
    """A bulk form's action on the messages it names, each folder's as its own list gives it:
    those of ``folder`` (its UIDs), or of any folder of its account ("folder:uid")."""
    action = request.POST.get("action", "")
    if action not in store.ACTIONS:
        return HttpResponseBadRequest(_("Unknown action."))
    by_folder: dict[int, set[int]] = {}
    try:
        for value in request.POST.getlist("uid"):
            folder_part, uid_part = value.split(":", 1) if in_search else (folder.pk, value)
            by_folder.setdefault(int(folder_part), set()).add(int(uid_part))
        target = int(request.POST["target"]) if action == "move" and request.POST.get("target") else None
    except ValueError:
        return HttpResponseBadRequest(_("Bad message selection."))
    uids = [uid for chosen in by_folder.values() for uid in chosen]
    if not all(imap.is_uid(uid) for uid in uids) or len(uids) > MAX_BULK:
        return HttpResponseBadRequest(_("Bad message selection."))
    if not uids:
        messages.warning(request, _("Select at least one message first."))
        return redirect(back)
    sources = (
        list(Folder.objects.select_related("account").filter(account=folder.account, pk__in=by_folder))
        if in_search
        else [folder]
    )
    if len(sources) != len(by_folder):
        raise Http404  # a folder of another account, or none at all
    done: dict[int | None, tuple[int, Folder | None]] = {}  # by target: how many went there
    refusals = []
    for source in sources:
        try:
            outcome = store.apply_action(source, action, sorted(by_folder[source.pk]), target)
        except store.ActionRefused as exc:
            refusals.append(str(exc))
            continue
        except MailServerError as exc:
            messages.error(request, server_problem(exc))
            break
        key = outcome.target.pk if outcome.target is not None else None
        done[key] = (done.get(key, (0, None))[0] + outcome.count, outcome.target)
    for count, moved_to in done.values():
        messages.success(request, _done(action, store.ActionResult(count, moved_to)))
        if moved_to is not None and moved_to.synced_at is None:
            tasks.publish_folder_sync(moved_to)
    for refusal in dict.fromkeys(refusals):
        messages.error(request, refusal)
    return redirect(back)


def _done(action: str, outcome: store.ActionResult) -> str:
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


@login_required
@never_cache
def thread(request: HttpRequest, folder_id: int, summary_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
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
            dates.shown(timezone.localtime(row.date, zone), "DATETIME_FORMAT") if row.date else _("no date")
        )
    context = {"folder": folder, "summary": summary, "thread": rows, "error": error}
    return render_page(request, "webmail/thread.html", folder.account, context, status=502 if error else 200)


@login_required
@never_cache
def search(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
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
            page.object_list = decorate(list(page.object_list), folder.account, request.user.zone)
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
    return render_page(request, "webmail/search.html", folder.account, context, status=502 if error else 200)
