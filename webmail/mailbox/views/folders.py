"""Managing an account's folders: the list, create, rename, delete. The Inbox and the special
folders (Sent, Drafts, Trash, ...) can be neither renamed nor deleted."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import SignedInRequest, own_account
from accounts.models import MailAccount
from webmail.mailbox import store
from webmail.mailbox.forms import FolderNameForm
from webmail.mailbox.models import Folder
from webmail.mailbox.views.pages import protected, render_page, server_problem, user_folder
from webmail.protocol.mailservers import MailServerError


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
    return render_page(request, "webmail/folders.html", account, context, status=502 if error else 200)


def _change_name(
    request: HttpRequest,
    form: FolderNameForm,
    account: MailAccount,
    full_name: Callable[[str], str],
    change: Callable[[str], str],
) -> None:
    """Validate the posted name, refuse one the account already has (or INBOX), then make the
    change on the server; the outcome is a flash message. ``full_name`` turns the typed leaf into
    the folder's whole name; ``change`` makes the change and returns the success message."""
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["name"]))
        return
    name = full_name(form.cleaned_data["name"])
    if name.upper() == "INBOX" or Folder.objects.filter(account=account, name=name).exists():
        messages.error(request, _("There is already a folder called “%(name)s”.") % {"name": name})
        return
    try:
        done = change(form.cleaned_data["name"])
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
    else:
        messages.success(request, done)


@require_POST
@login_required
def folder_create(request: SignedInRequest, account_id: uuid.UUID) -> HttpResponse:
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

    def create(leaf: str) -> str:
        store.create_folder(account, leaf, parent)
        return _("Folder “%(name)s” created.") % {"name": leaf}

    form = FolderNameForm(request.POST, delimiter=delimiter)
    _change_name(request, form, account, lambda leaf: store.full_name(leaf, parent), create)
    return redirect("mailbox:folders", account_id=account.pk)


@require_POST
@login_required
def folder_rename(request: SignedInRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    if protected(folder):
        messages.error(request, _("The Inbox and the special folders cannot be renamed."))
        return redirect("mailbox:folders", account_id=folder.account_id)
    old = folder.name

    def rename(leaf: str) -> str:
        store.rename_folder(folder, leaf)
        return _("“%(old)s” renamed to “%(new)s”.") % {"old": old, "new": folder.name}

    form = FolderNameForm(request.POST, delimiter=folder.delimiter)
    _change_name(request, form, folder.account, lambda leaf: store.renamed(folder, leaf), rename)
    return redirect("mailbox:folders", account_id=folder.account_id)


@require_POST
@login_required
def folder_delete(request: HttpRequest, folder_id: int) -> HttpResponse:
    folder = user_folder(request, folder_id)
    if protected(folder):
        messages.error(request, _("The Inbox and the special folders cannot be deleted."))
        return redirect("mailbox:folders", account_id=folder.account_id)
    if request.POST.get("confirm") != "1":
        return render_page(request, "webmail/folder_delete.html", folder.account, {"target": folder, "managing": True})
    try:
        store.delete_folder(folder)
    except MailServerError as exc:
        messages.error(request, server_problem(exc))
    else:
        messages.success(request, _("Folder “%(name)s” deleted.") % {"name": folder.name})
    return redirect("mailbox:folders", account_id=folder.account_id)
