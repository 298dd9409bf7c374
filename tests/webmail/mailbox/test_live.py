"""The live news: what a stream tells its page, the stream under ASGI (as uvicorn serves it), and
the sync telling the pages (through Redis when it is set, else by the streams reading the counts)."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.test import AsyncClient, Client
from django.urls import reverse

from tests.factories import MailAccountFactory, user_on_test_servers
from tests.helpers import sign_in
from tests.webmail.mailbox.helpers import folder_named, sync_account
from webmail.mailbox import live, watcher
from webmail.mailbox.models import Folder
from webmail.mailbox.store import active_account_ids
from webmail.mailbox.views.live import News


def item(folder: int, version: str, unread: int = 0) -> dict:
    return {"folder": folder, "total": 1, "unread": unread, "version": version}


def test_news_tells_each_change_once_and_ignores_what_is_not_the_users():
    news = News(user_id=1)
    assert news.first({7: item(7, "a")}).startswith("retry: 3000\nevent: state\n")
    assert news.since({7: item(7, "a")}) == "", "nothing moved"
    assert news.since({7: item(7, "b", unread=1)}) == f"event: folder\ndata: {json.dumps(item(7, 'b', 1))}\n\n"
    assert news.published(json.dumps(item(7, "b", 1))) == "", "already told"
    assert news.published(json.dumps(item(8, "c"))) == "", "not a folder of this user's"
    assert news.published(b"not json") == ""
    assert news.published(json.dumps(item(7, "d"))).startswith("event: folder\n")


def test_the_stream_under_asgi_sends_the_state_then_each_change(transactional_db, dovecot, mail_account, pki):
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host="127.0.0.1", smtp_port=1)
    sync_account(user.mail_accounts.get(), ["INBOX"])
    inbox = folder_named(user.mail_accounts.get(), "INBOX")
    cookies = sign_in(Client(), user).cookies

    async def read_two_events() -> list[str]:
        client = AsyncClient()
        client.cookies = cookies
        response = await client.get(reverse("mailbox:live"))
        assert response["Content-Type"] == "text/event-stream" and response["X-Accel-Buffering"] == "no"
        chunks = aiter(response.streaming_content)
        first = (await anext(chunks)).decode()
        # A sync changed the folder: the counts in the database, and the news (with Redis).
        await Folder.objects.filter(pk=inbox.pk).aupdate(total=5, unread=3, uidnext=99)
        changed = await Folder.objects.select_related("account").aget(pk=inbox.pk)
        await asyncio.to_thread(live.folder_changed, changed, user.pk)
        second = await asyncio.wait_for(anext(chunks), timeout=5)
        await response.streaming_content.aclose()
        await sync_to_async(connections.close_all)()  # the thread the ORM ran in lets go of the database
        return [first, second.decode()]

    first, second = asyncio.run(read_two_events())
    assert f'"folder": {inbox.pk}' in first and first.startswith("retry: 3000\nevent: state\n")
    assert second.startswith("event: folder\n") and '"unread": 3' in second and '"total": 5' in second


def test_a_sync_that_changes_a_folder_tells_its_user_and_one_that_changes_nothing_does_not(
    transactional_db, dovecot, mail_account, pki, monkeypatch
):
    user = user_on_test_servers(mail_account, dovecot, pki, smtp_host="127.0.0.1", smtp_port=1)
    account = user.mail_accounts.get()
    told: list[tuple[int, int]] = []
    real = live.folder_changed
    monkeypatch.setattr(live, "folder_changed", lambda folder, user_id: told.append((folder.pk, user_id)))
    sync_account(account, ["INBOX"])
    told.clear()
    sync_account(account, ["INBOX"])
    assert told == [], "nothing changed"
    dovecot.deliver(user.email, b"From: ann@example.org\r\nSubject: New\r\n\r\nHi\r\n")
    sync_account(account, ["INBOX"])
    inbox = folder_named(account, "INBOX")
    assert told == [(inbox.pk, user.pk)]
    if settings.REDIS_URL:  # and the news really goes through Redis to a subscriber
        pubsub = live.subscribe(user.pk)
        try:
            pubsub.get_message(timeout=1)  # the subscription's own confirmation
            real(inbox, user.pk)
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert json.loads(message["data"])["folder"] == inbox.pk
        finally:
            pubsub.close()


def test_the_live_requests_do_not_keep_a_session_alive(transactional_db, teammate):
    client = sign_in(Client(), teammate)
    session = client.session
    session["_seen"] = 1  # long ago
    session.save()
    assert client.get(reverse("mailbox:live_state")).status_code == 200
    assert client.session["_seen"] == 1, "a page asking for news is not a person using it"
    client.get(reverse("outbox:list"))
    assert client.session["_seen"] > 1


def test_an_open_page_keeps_its_users_accounts_watched_while_the_person_only_reads(transactional_db, teammate):
    account = MailAccountFactory(user=teammate)
    client = sign_in(Client(), teammate)
    session = client.session
    session.set_expiry(1)  # idle for long: no longer counted as active
    session.save()
    assert account.pk not in active_account_ids()
    response = client.get(reverse("mailbox:live"))  # the page's live stream connects
    response.close()
    assert account.pk in watcher.watched_account_ids()
