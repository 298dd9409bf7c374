"""What every mailbox page shares: the user's folders looked up by id (always the signed-in
user's own), the sidebar and account switcher around a page, the rows of a message list, and
the plain words for a mail server that did not answer.

When the mail server fails while a page needs it, the page still renders (sidebar, cached
list, a banner in plain words) with status 502: the failure is upstream, and saying so keeps
monitoring and proxies honest. Nothing our htmx polling asks for talks to IMAP, so a 502 never
lands where htmx would drop it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import MailAccount
from webmail.mailbox import listing, store
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.protocol import imap
from webmail.protocol.mailservers import MailServerError

PAGE_SIZE = 50
OUTSIDE_FOLDERS = (SpecialUse.SENT, SpecialUse.DRAFTS)  # lists show the recipients, not the sender


def user_folder(request: HttpRequest, folder_id) -> Folder:
    return get_object_or_404(Folder.objects.select_related("account"), pk=folder_id, account__user=request.user)


def folder_and_siblings(request: HttpRequest, folder_id: int) -> tuple[Folder, list[Folder]]:
    """The user's folder and every folder of its account (the sidebar's), in one query; the
    folder is the list's own object, so a sync or recount of it shows in the sidebar too."""
    folders = list(
        Folder.objects.select_related("account").filter(account__user=request.user, account__folders__pk=folder_id)
    )
    folder = next((item for item in folders if item.pk == folder_id), None)
    if folder is None:
        raise Http404
    return folder, folders


def check_uid(uid: int) -> int:
    """A UID from the URL, or 404 for one no server can have."""
    if not imap.is_uid(uid):
        raise Http404
    return uid


def server_problem(exc: MailServerError) -> str:
    return _("The mail server did not answer: %(reason)s") % {"reason": exc}


def protected(folder: Folder) -> bool:
    return folder.special_use != SpecialUse.NONE or folder.name.upper() == "INBOX"


def label(folder: Folder) -> str:
    """The folder's name in the sidebar and its page: a special folder (Inbox, Sent, Junk...) by
    its role, in the reader's language, as mail clients show them; any other by its own name."""
    if folder.special_use and folder.special_use in SpecialUse.values:
        return str(SpecialUse(folder.special_use).label)
    return getattr(folder, "leaf", "") or folder.name


def render_page(
    request: HttpRequest, template: str, account: MailAccount, context: dict, status: int = 200, folders=None
):
    """Render a mailbox page: the account's folder tree in the sidebar, in the user's time zone.

    ``folders``: the account's Folder rows, when the view has them already."""
    folders = store.sorted_folders(Folder.objects.filter(account=account) if folders is None else folders)
    folder_url = listing.url_maker("mailbox:folder")  # the sidebar's links and icons, without template tags
    icons: dict[str, str] = {}
    for item in folders:
        item.label = label(item)
        item.indent = min(item.depth, 6)
        item.icon = f"img/mail/{item.special_use or 'folder'}.svg"
        item.icon_url = icons.get(item.icon) or icons.setdefault(item.icon, static(item.icon))
        item.url = folder_url(item.pk)
        unread = ngettext("%(counter)s unread message", "%(counter)s unread messages", item.unread)
        item.unread_title = unread % {"counter": item.unread}
        item.protected = protected(item)
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


def when(moment: datetime | None, dates: listing.Dates) -> str:
    if moment is None:
        return _("no date")
    return dates.when(dates.local(moment))


def decorate(
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
        row.when = when(row.date, dates)
        if row.folder.special_use in OUTSIDE_FOLDERS and row.to:
            row.who = _("To: %(recipients)s") % {"recipients": row.to}
        else:
            row.who = row.from_name or row.from_address or _("(unknown sender)")
        row.thread_size = sizes.get(row.thread_key, 1) if row.thread_key else 1
        markup.fill(row, found=found)
    return rows
