"""The message list made cheap (webmail/listing.py): the same rows, links and pages as before.

No mail server here: the cache is filled directly, as a complete sync leaves it, and a warm
list page never talks to IMAP (the sync it publishes is recorded by the ``published`` fixture).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import sign_in
from tests.webmail.mailbox.helpers import cached_folder, cached_message, sync_account
from webmail.mailbox import listing, sync
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.mailbox.views import pages

ZONE = "America/New_York"
# The readable template of one row (what _rows.html was before the rows were made in Python).
OLD_ROWS = '{% for m in page %}\n{% include "webmail/_row.html" %}{% endfor %}\n'


@pytest.fixture
def account(db, published):
    user = UserFactory(email="lister@example.test", full_name="Lisa Lister", time_zone=ZONE)
    return MailAccountFactory(user=user)


@pytest.fixture
def lister(account) -> Client:
    return sign_in(Client(), account.user)


def counted(folder: Folder) -> Folder:
    folder.total = folder.messages.count()
    folder.unread = folder.messages.filter(seen=False).count()
    folder.save()
    return folder


def rows_of(html: str) -> list[str]:
    return re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S)


def squeezed(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def test_a_row_shows_its_marks_sender_subject_attachment_date_and_links(account, lister):
    inbox = cached_folder(account)
    sent = cached_folder(account, "Sent", SpecialUse.SENT)
    cached_message(inbox, 1, seen=False, flagged=True, has_attachments=True, thread_key="<t@x>")
    cached_message(inbox, 2, subject='<b>Hi & "you"</b>', from_name="<script>alert(1)</script>", thread_key="<t@x>")
    cached_message(inbox, 3, subject="", from_name="", from_address="", date=None)
    cached_message(sent, 1, thread_key="<t@x>", to="Rita <rita@example.test>")
    counted(inbox)
    counted(sent)

    html = lister.get(reverse("mailbox:folder", args=[inbox.pk])).content.decode()
    listed = rows_of(html)
    assert len(listed) == 3
    first, second, third = (next(row for row in listed if mark in row) for mark in ("Message 1<", "Hi", "no date"))
    one = inbox.messages.get(uid=1)

    assert first.startswith('<tr class="unread flagged">')
    assert '<span class="visually-hidden">Unread</span>' in first
    assert 'alt="Flagged"' in first and 'alt="Has attachments"' in first
    assert '<td class="who">Sender 1</td>' in first
    assert f'<a href="{reverse("mailbox:message", args=[inbox.pk, 1])}">Message 1</a>' in first
    thread = reverse("mailbox:thread", args=[inbox.pk, one.pk])
    assert f'<a class="thread-count" href="{thread}" title="Show the conversation">3 in conversation</a>' in first
    assert 'name="uid" value="1" id="pick-1" hx-preserve="true" aria-label="Select “Message 1”"' in first
    # 12:01 UTC is 07:01 in New York: the user's zone, not the server's.
    assert '<time datetime="2026-03-01T07:01:00-05:00" title="March 1, 2026, 7:01 a.m.">03/01/2026</time>' in first

    assert second.startswith('<tr class="">')
    assert "&lt;b&gt;Hi &amp; &quot;you&quot;&lt;/b&gt;" in second and "<b>" not in second
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in second and "<script>alert" not in html

    assert "(no subject)" in third and "(unknown sender)" in third
    assert '<span class="muted">no date</span>' in third
    assert "thread-count" not in third

    sent_html = lister.get(reverse("mailbox:folder", args=[sent.pk])).content.decode()
    assert '<td class="who">To: Rita &lt;rita@example.test&gt;</td>' in sent_html


def test_todays_mail_shows_the_time_in_the_users_zone(account, lister):
    inbox = cached_folder(account)
    now = timezone.now().replace(microsecond=0)
    cached_message(inbox, 1, date=now)
    counted(inbox)
    html = lister.get(reverse("mailbox:folder", args=[inbox.pk])).content.decode()
    local = timezone.localtime(now, account.user.zone)
    shown = date_format(local.time(), "TIME_FORMAT")
    assert (
        f'<time datetime="{local.isoformat()}" title="{date_format(local, "DATETIME_FORMAT")}">{shown}</time>' in html
    )


@pytest.mark.parametrize(("selectable", "show_folder"), [(True, False), (False, False), (False, True)])
def test_the_rows_are_what_the_old_template_made(account, selectable, show_folder):
    inbox = cached_folder(account)
    archive = cached_folder(account, "Archive <old>", SpecialUse.ARCHIVE)
    now = timezone.now()
    cached_message(inbox, 1, seen=False, flagged=True, has_attachments=True, thread_key="<t@x>", date=now)
    cached_message(inbox, 2, subject='<i>"quoted" & more</i>', from_name="Zoë <z@x>", thread_key="<t@x>")
    cached_message(inbox, 3, subject="", from_name="", date=None, flagged=True)
    cached_message(archive, 4, thread_key="<t@x>", date=now - timedelta(days=400), seen=False)
    cached_message(archive, 5, date=datetime(2026, 7, 4, 3, 59, 59, 123456, tzinfo=UTC))  # summer time, microseconds
    rows = list(MessageSummary.objects.filter(folder__account=account).select_related("folder").order_by("uid"))
    zone = account.user.zone
    pages.decorate(rows, account, zone)

    context = {"page": rows, "selectable": selectable, "show_folder": show_folder}
    with timezone.override(zone):
        old = Template(OLD_ROWS).render(Context(context))
        new = Template('{% include "webmail/_rows.html" %}').render(Context(context))
    assert len(rows_of(new)) == 5
    assert squeezed(new) == squeezed(old)


@pytest.mark.parametrize("every", [4, 1000], ids=["milestone-every-4", "milestone-every-1000"])
@pytest.mark.parametrize("complete", [True, False])
def test_every_window_of_rows_is_what_offset_paging_gives(account, monkeypatch, complete, every):
    """Ties on the date, mail without a date, deep pages from either end: the same rows as
    ``folder.messages.all()[bottom:top]``, whichever way each page is found."""
    monkeypatch.setattr(listing, "ANCHOR_FROM", 1)  # look the first row up even one row down
    monkeypatch.setattr(listing, "MILESTONE_EVERY", every)
    box = cached_folder(account)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for uid in range(1, 38):
        when = None if uid % 11 == 0 else base + timedelta(hours=uid // 3)  # three to a date
        cached_message(box, uid, date=when)
    counted(box)
    if not complete:
        box.backfill_below = 1
        box.save()
    expected = list(box.messages.values_list("uid", flat=True))
    assert len(expected) == 37
    for size in (1, 5, 7):
        for bottom in range(0, 38, size):
            top = min(bottom + size, 37)
            assert [row.uid for row in listing.page_rows(box, bottom, top)] == expected[bottom:top], (bottom, top)


def test_deep_pages_start_from_milestones_kept_until_the_rows_change(account, monkeypatch):
    monkeypatch.setattr(listing, "ANCHOR_FROM", 10)
    monkeypatch.setattr(listing, "MILESTONE_EVERY", 10)
    box = cached_folder(account)
    for uid in range(1, 101):
        cached_message(box, uid)
    counted(box)
    box.uidnext = 101
    box.save()
    expected = list(box.messages.values_list("uid", flat=True))
    marks = listing.milestones(box)
    assert [(position, uid) for position, _date, uid in marks] == [(n, 100 - n) for n in range(0, 100, 10)]

    with CaptureQueriesContext(connection) as deep:
        assert [row.uid for row in listing.page_rows(box, 35, 40)] == expected[35:40]
    assert len(deep) == 1, "the milestones come from the cache; the page is one range of the index"
    assert "OFFSET 5" in deep[0]["sql"], "read on from the milestone at row 30"

    # A new message on top: every row moves one down, and the folder's next key is new.
    cached_message(box, 101, date=datetime(2027, 1, 1, tzinfo=UTC))
    counted(box)
    box.uidnext = 102
    box.save()
    expected = list(box.messages.values_list("uid", flat=True))
    assert [row.uid for row in listing.page_rows(box, 35, 40)] == expected[35:40] == [66, 65, 64, 63, 62]
    # And one removed (as a move or an expunge does, UIDNEXT unchanged).
    box.messages.filter(uid=80).delete()
    counted(box)
    expected = list(box.messages.values_list("uid", flat=True))
    assert [row.uid for row in listing.page_rows(box, 15, 25)] == expected[15:25]


def test_pages_link_each_other_and_show_the_right_rows(account, lister, monkeypatch):
    monkeypatch.setattr(listing, "ANCHOR_FROM", 0)
    inbox = cached_folder(account)
    MessageSummary.objects.bulk_create(
        MessageSummary(
            folder=inbox,
            uid=uid,
            subject=f"Message {uid}",
            date=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=uid),
        )
        for uid in range(1, 121)
    )
    counted(inbox)
    url = reverse("mailbox:folder", args=[inbox.pk])
    shown = {}
    for page in (1, 2, 3):
        html = lister.get(f"{url}?page={page}").content.decode()
        shown[page] = [int(n) for n in re.findall(r'name="uid" value="(\d+)"', html)]
        assert f"Page {page} of 3" in html
        assert ('rel="prev"' in html) == (page > 1) and ('rel="next"' in html) == (page < 3)
    assert shown == {1: list(range(120, 70, -1)), 2: list(range(70, 20, -1)), 3: list(range(20, 0, -1))}
    assert 'href="?page=3" rel="next"' in lister.get(f"{url}?page=2").content.decode()
    assert "Page 3 of 3" in lister.get(f"{url}?page=99").content.decode(), "past the end: the last page"


def test_a_page_costs_the_same_few_queries_whatever_its_rows(account, lister, django_assert_max_num_queries):
    inbox = cached_folder(account)
    cached_folder(account, "Sent", SpecialUse.SENT)
    url = reverse("mailbox:folder", args=[inbox.pk])
    cached_message(inbox, 1, thread_key="<t@x>")
    counted(inbox)
    lister.get(url)
    with CaptureQueriesContext(connection) as one:
        lister.get(url)
    MessageSummary.objects.bulk_create(
        MessageSummary(folder=inbox, uid=uid, thread_key=f"<t{uid % 7}@x>", has_attachments=uid % 2 == 0)
        for uid in range(2, 60)
    )
    counted(inbox)
    with django_assert_max_num_queries(len(one)):
        html = lister.get(f"{url}?page=1").content.decode()
    assert len(rows_of(html)) == 50
    # Session, user, second factor, the folder with its account's folders, its rows, conversation
    # sizes, the accounts for the switcher and the SMTP hold banner; no write.
    assert len(one) <= 7, [query["sql"] for query in one]
    assert not [query for query in one if query["sql"].startswith('UPDATE "webmail')]


def test_the_sidebar_links_and_counts_come_from_the_view(account, lister):
    inbox = cached_folder(account)
    cached_folder(account, "Projects", SpecialUse.NONE)
    cached_message(inbox, 1, seen=False)
    cached_message(inbox, 2, seen=False)
    counted(inbox)
    html = lister.get(reverse("mailbox:folder", args=[inbox.pk])).content.decode()
    sidebar = html[html.index('class="plain folder-list"') : html.index("Manage folders")]
    url = reverse("mailbox:folder", args=[inbox.pk])
    link = f'<a href="{url}" data-folder="{inbox.pk}" data-inbox data-special-use="inbox" aria-current="page">'
    assert link in sidebar
    assert '<img class="folder-icon" src="/static/img/mail/inbox.svg"' in sidebar
    assert '<img class="folder-icon" src="/static/img/mail/folder.svg"' in sidebar
    assert '<span class="count" title="2 unread messages">2</span>' in sidebar


def test_search_results_still_show_their_folder(account, lister):
    inbox = cached_folder(account)
    archive = cached_folder(account, "Archive", SpecialUse.ARCHIVE)
    cached_message(inbox, 1, has_attachments=True)
    cached_message(archive, 2, has_attachments=True, subject="Old <news>")
    counted(inbox)
    counted(archive)
    url = reverse("mailbox:search", args=[inbox.pk]) + "?attachments=1&scope=all"
    html = lister.get(url).content.decode()
    found = rows_of(html)
    assert [re.search(r'class="in-folder">([^<]+)<', row).group(1) for row in found] == ["Archive", "INBOX"]
    assert "Old &lt;news&gt;" in found[0]
    # Each row's checkbox names its folder: the actions on search results span folders.
    assert f'name="uid" value="{archive.pk}:2"' in found[0] and f'name="uid" value="{inbox.pk}:1"' in found[1]


def test_statistics_are_refreshed_inside_a_transaction_without_breaking_it(account):
    box = cached_folder(account)
    cached_message(box, 1)
    sync.refresh_statistics()
    assert box.messages.count() == 1, "the connection still works"


def test_a_sync_that_cached_many_rows_refreshes_the_statistics(reader, dovecot, monkeypatch):
    from tests.webmail.helpers import make_message

    calls = []
    monkeypatch.setattr(sync, "STATS_AFTER_ROWS", 3)
    monkeypatch.setattr(sync, "refresh_statistics", lambda: calls.append(True))
    for n in range(1, 5):
        dovecot.deliver(reader.user.email, make_message(n))
    sync_account(reader, ["INBOX"])
    assert calls == [True]
    dovecot.deliver(reader.user.email, make_message(5))
    sync_account(reader, ["INBOX"])
    assert calls == [True], "one new message: autovacuum's business"
