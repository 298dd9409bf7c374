"""The reading pane's Newer/Older links (and the j/k keys that follow them): the messages just
above and below in the folder's own list order, dates shared and missing dates included, and
the links on the page, for readers without JavaScript too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import MailAccountFactory, UserFactory
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import cached_folder, cached_message, deliver_all
from webmail.mailbox.models import Folder
from webmail.mailbox.views.reading import _neighbours


@pytest.fixture
def inbox(db) -> Folder:
    account = MailAccountFactory(user=UserFactory(email="next@example.test"))
    inbox = cached_folder(account)
    same = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for uid, moment in [(1, same), (2, None), (3, same), (4, datetime(2026, 3, 2, tzinfo=UTC)), (5, None), (6, same)]:
        cached_message(inbox, uid, date=moment)
    cached_message(cached_folder(account, "Other", ""), 7, date=same)  # another folder's row is no neighbour
    return inbox


def test_the_neighbours_are_those_of_the_list_in_its_order(inbox):
    order = list(inbox.messages.values_list("uid", flat=True))  # the list's order, as the database sorts it
    assert len(order) == 6
    for n, uid in enumerate(order):
        found = _neighbours(inbox, inbox.messages.get(uid=uid))
        assert found == {"newer": order[n - 1] if n else None, "older": order[n + 1] if n + 1 < len(order) else None}
    assert _neighbours(inbox, None) == {"newer": None, "older": None}


def test_the_message_page_links_the_newer_and_older_message(reader, reader_client, dovecot):
    uids = deliver_all(dovecot, reader.user.email, [make_message(n) for n in (1, 2, 3)])
    reader_client.get(reverse("mailbox:index"))
    inbox = Folder.objects.get(account=reader, name="INBOX")
    reader_client.get(reverse("mailbox:folder", args=[inbox.pk]))  # the cache filled
    html = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uids[1]])).content.decode()
    assert f'href="{reverse("mailbox:message", args=[inbox.pk, uids[2]])}" data-key-nav="prev"' in html
    assert f'href="{reverse("mailbox:message", args=[inbox.pk, uids[0]])}" data-key-nav="next"' in html
    html = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uids[2]])).content.decode()
    assert 'data-key-nav="prev"' not in html and 'data-key-nav="next"' in html  # the newest has no newer
