"""Actions on a whole folder: empty the Trash or Junk (after a confirmation), mark every
message of a folder as read. Both act on the server's messages, not on one page of the list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.http import next_url
from webmail.mailbox import store, tools
from webmail.mailbox.views.pages import label, render_page, server_problem, user_folder
from webmail.protocol.mailservers import MailServerError


@require_POST
@login_required
def empty(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    if not tools.can_empty(folder):
        return HttpResponseBadRequest(_("Only the Trash and Junk folders can be emptied."))
    if request.POST.get("confirm") != "1":
        return render_page(request, "webmail/folder_empty.html", folder.account, {"folder": folder})
    try:
        count = tools.empty_folder(folder)
    except (MailServerError, store.ActionRefused) as exc:
        messages.error(request, server_problem(exc) if isinstance(exc, MailServerError) else str(exc))
    else:
        done = ngettext(
            "%(folder)s is empty: %(n)d message deleted for good.",
            "%(folder)s is empty: %(n)d messages deleted for good.",
            count,
        )
        messages.success(request, done % {"folder": label(folder), "n": count})
    return redirect("mailbox:folder", folder_id=folder.pk)


@require_POST
@login_required
def mark_all_read(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    back = next_url(request, reverse("mailbox:folder", args=[folder.pk]))
    try:
        count = tools.mark_folder_read(folder)
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
    else:
        done = ngettext("%(n)d message marked as read.", "%(n)d messages marked as read.", count)
        messages.success(request, done % {"n": count})
    return redirect(back)
