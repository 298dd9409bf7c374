"""The sync tasks: one folder, one account, and the beat's choice of active accounts."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Security
from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import sign_in
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import deliver_all, sync_account
from webmail.mailbox import store, sync, tasks
from webmail.mailbox.models import Folder


def add_session(user, last_seen_ago: timedelta) -> None:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store.create()
    expiry = timezone.now() - last_seen_ago + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    Session.objects.filter(session_key=store.session_key).update(expire_date=expiry)


def test_the_beat_syncs_only_accounts_whose_users_were_active_lately(db, published):
    active, idle, gone = (UserFactory() for _ in range(3))
    active_account = MailAccountFactory(user=active)
    MailAccountFactory(user=idle)
    MailAccountFactory(user=gone)
    add_session(active, timedelta(minutes=2))
    add_session(idle, timedelta(minutes=45))
    tasks.sync_active_accounts()
    assert published == [("webmail.tasks.sync_account", str(active_account.pk))]


def test_sync_account_fetches_every_folder(reader, dovecot):
    dovecot.deliver(reader.user.email, make_message(1))
    dovecot.deliver(reader.user.email, make_message(2), folder="Archive")
    tasks.sync_account(str(reader.pk))
    folders = {f.name: f for f in Folder.objects.filter(account=reader)}
    assert folders["INBOX"].total == 1 and folders["Archive"].total == 1
    assert all(f.synced_at for f in folders.values() if f.selectable)


def test_a_failed_sync_is_kept_on_the_folder_and_cleared_by_the_next(reader, dovecot, closed_port):
    sync_account(reader, [])
    inbox = Folder.objects.get(account=reader, name="INBOX")
    port, security = reader.imap_port, reader.imap_security
    reader.imap_port, reader.imap_security = closed_port, Security.NONE
    reader.save()
    tasks.sync_folder(str(reader.pk), inbox.pk)
    assert Folder.objects.get(pk=inbox.pk).sync_error == "connection refused"
    reader.imap_port, reader.imap_security = port, security
    reader.save()
    tasks.sync_folder(str(reader.pk), inbox.pk)
    assert Folder.objects.get(pk=inbox.pk).sync_error == ""


def test_a_task_for_another_accounts_folder_does_nothing(reader, db):
    sync_account(reader, [])
    inbox = Folder.objects.get(account=reader, name="INBOX")
    tasks.sync_folder(str(MailAccountFactory().pk), inbox.pk)
    assert Folder.objects.get(pk=inbox.pk).synced_at is None


def test_a_folder_sync_is_published_once_while_clicking_around(reader, db, published, monkeypatch):
    sync_account(reader, [])
    inbox = Folder.objects.get(account=reader, name="INBOX")
    assert tasks.publish_folder_sync(inbox) and tasks.publish_folder_sync(inbox)
    assert published == [("webmail.tasks.sync_folder", str(reader.pk), inbox.pk)]

    trash = Folder.objects.get(account=reader, name="Trash")
    monkeypatch.setattr(tasks, "publish", lambda task, *args: False)  # the broker is down
    assert not tasks.publish_folder_sync(trash)
    assert not tasks.publish_folder_sync(trash), "a failure is not remembered as a success"


def test_a_broker_that_is_down_does_not_break_the_page(reader, dovecot, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr(tasks.sync_folder, "apply_async", refuse)
    dovecot.deliver(reader.user.email, make_message(1))
    client = sign_in(Client(), reader.user)
    response = client.get(reverse("mailbox:index"), follow=True)
    assert response.status_code == 200 and "Message 1" in response.content.decode()
    assert "Refreshing" not in response.content.decode()
    assert tasks.publish(tasks.sync_folder, str(reader.pk), 1) is False


def test_a_worker_finishes_the_first_sync_the_page_started(reader, dovecot, celery_worker, monkeypatch):
    monkeypatch.setattr(sync, "HEAD_SIZE", 5)
    deliver_all(dovecot, reader.user.email, [make_message(n) for n in range(1, 13)])
    client = sign_in(Client(), reader.user)
    html = client.get(reverse("mailbox:index"), follow=True).content.decode()
    assert "Loading older messages…" in html
    inbox = Folder.objects.get(account=reader, name="INBOX")
    assert inbox.total == 5
    poll_url = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    deadline = time.monotonic() + 20
    while "hx-trigger" in (poll := client.get(poll_url, HTTP_HX_REQUEST="true").content.decode()):
        assert time.monotonic() < deadline, f"no sync within 20 s:\n{celery_worker.log_text()}"
        time.sleep(0.2)
    assert Folder.objects.get(pk=inbox.pk).total == 12
    assert "Loading older" not in poll
    assert store.active_account_ids() == [reader.pk]
