"""Celery tasks of the mailbox: keeping the envelope cache in step with IMAP behind the pages.

Each task takes ids and calls one function in ``webmail.mailbox.store``; failures end up on the
folder (``sync_error``) for the page to show, never as a retry storm against a dead server.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache

from accounts.models import MailAccount
from webmail.mailbox import store
from webmail.mailbox.models import Folder

log = logging.getLogger(__name__)

PUBLISH_DEDUP_SECONDS = 10


@shared_task(name="webmail.tasks.sync_folder", ignore_result=True)  # the name queued messages carry
def sync_folder(account_id: str, folder_id: int) -> None:
    """One folder up to date, older mail included (what a page publishes when it is opened)."""
    folder = Folder.objects.select_related("account").filter(pk=folder_id, account_id=account_id).first()
    if folder is not None and folder.selectable:
        store.refresh_folder(folder)


@shared_task(name="webmail.tasks.sync_account", ignore_result=True)  # the name queued messages carry
def sync_account(account_id: str) -> None:
    """The folder list and every folder of one account, in one IMAP session."""
    account = MailAccount.objects.filter(pk=account_id).first()
    if account is not None:
        store.refresh_account(account)


@shared_task(name="webmail.tasks.sync_active_accounts", ignore_result=True)  # the name queued messages carry
def sync_active_accounts() -> None:
    """For beat: a sync of each account whose user made a request in the last few minutes.

    "Active" is read from the database sessions (see ``store.active_account_ids``): a user
    who leaves the tab open keeps their mail fresh, an account nobody looks at costs nothing.
    """
    for account_id in store.active_account_ids():
        publish(sync_account, str(account_id))


def publish(task, *args) -> bool:
    """Ring the bell; a broker that is down is logged, not fatal: the next page view or beat retries."""
    try:
        task.apply_async(args, retry=False)
    except Exception:
        log.warning("could not publish %s%r", task.name, args, exc_info=True)
        return False
    return True


def publish_folder_sync(folder: Folder) -> bool:
    """A sync of ``folder``, unless one was asked for moments ago (a user clicking around a
    large folder should not queue one full backfill per click): by any web process when the
    cache is Redis, by this one otherwise."""
    key = _published_key(folder)
    if not cache.add(key, time.time(), PUBLISH_DEDUP_SECONDS):
        return True
    if not publish(sync_folder, str(folder.account_id), folder.pk):
        cache.delete(key)
        return False
    return True


def folder_sync_asked_at(folder: Folder) -> float | None:
    """When the folder's latest sync was published (within the last PUBLISH_DEDUP_SECONDS), as
    ``time.time()``: a page whose own request was folded into it waits for that one only."""
    value = cache.get(_published_key(folder))
    return value if isinstance(value, float) else None


def _published_key(folder: Folder) -> str:
    return f"webmail:sync-published:{folder.pk}"
