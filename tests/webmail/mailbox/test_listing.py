"""The list's rows made fast (listing.RowMarkup.fill + webmail/_rows.html) against the readable
template of one row (webmail/_row.html): the same HTML, byte for byte, in every variant of the row.

RowMarkup stays because the template costs more than the issue's 2 ms per 50-row page (figures in
webmail/mailbox/listing.py and docs/PERFORMANCE.md, from bench/listing.py); _row.html is what it
is checked against, so that the fast path keeps the template's escaping, translations, URLs and
date formats. No views here: the rows get what the views' decoration sets (who, when, thread_size).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.template.loader import get_template
from django.utils import timezone

from tests.factories import MailAccountFactory, UserFactory
from tests.webmail.mailbox.helpers import cached_folder, cached_message
from webmail.mailbox import listing
from webmail.mailbox.models import MessageSummary, SpecialUse

ZONE = "America/New_York"
HOSTILE_SUBJECT = "<script>alert('subject')</script>"
HOSTILE_SENDER = 'Mallory "&<>" <mallory@example.test>'
HOSTILE_FOLDER = 'Archive <b>"&'
# The page as _rows.html would make it from the template of one row.
ROW_LOOP = '{% for m in page %}\n{% include "webmail/_row.html" %}{% endfor %}\n'
VARIANTS = [
    pytest.param({"selectable": True}, False, id="row"),
    pytest.param({"selectable": False, "show_folder": False}, True, id="row_plain"),
    pytest.param({"selectable": False, "show_folder": True}, True, id="row_in_folder"),
]


@pytest.fixture
def account(db):
    user = UserFactory(email="rows@example.test", time_zone=ZONE)
    return MailAccountFactory(user=user)


@pytest.fixture
def rows(account) -> list[MessageSummary]:
    """Every kind of row: unread, flagged, attachment, conversation, hostile text, no subject,
    no sender, no date, today's, last year's, summer time with microseconds, non-ASCII."""
    inbox = cached_folder(account, "INBOX", SpecialUse.INBOX)
    archive = cached_folder(account, HOSTILE_FOLDER, SpecialUse.ARCHIVE)
    now = timezone.now()
    cached_message(inbox, 1, seen=False, flagged=True, has_attachments=True, thread_key="<t@x>", date=now)
    cached_message(
        inbox, 2, subject=HOSTILE_SUBJECT, from_name=HOSTILE_SENDER, thread_key="<t@x>", preview="<b>&amp; {{ m }}"
    )
    cached_message(inbox, 3, subject="", from_name="", from_address="", date=None, flagged=True)
    cached_message(
        inbox, 4, subject="Größe & Übergröße — “quoted”", from_name="Zoë Müller", has_attachments=True, preview="Grüße"
    )
    cached_message(inbox, 5, subject="{0} %(subject)s {{ m }}", from_name="", from_address="bare@example.test")
    cached_message(archive, 6, thread_key="<t@x>", date=now - timedelta(days=400), seen=False)
    cached_message(archive, 7, subject="会議", date=datetime(2026, 7, 4, 3, 59, 59, 123456, tzinfo=UTC), flagged=True)
    found = list(MessageSummary.objects.filter(folder__account=account).select_related("folder").order_by("uid"))
    return decorated(found, account)


def decorated(found: list, account) -> list:
    """What the views set on each row before RowMarkup.fill (their _decorate)."""
    dates = listing.Dates(account.user.zone)
    sizes = listing.thread_sizes({row.thread_key for row in found if row.thread_key}, [row.folder_id for row in found])
    for row in found:
        row.when = "no date" if row.date is None else dates.when(dates.local(row.date))
        row.who = row.from_name or row.from_address or "(unknown sender)"
        row.thread_size = sizes.get(row.thread_key, 1) if row.thread_key else 1
    return found


def both_ways(found: list, zone, context: dict, fill_found: bool) -> tuple[str, str]:
    markup = listing.RowMarkup(listing.Dates(zone))
    for row in found:
        markup.fill(row, found=fill_found)
    context = {"page": found, **context}
    with timezone.override(zone):
        fast = get_template("webmail/_rows.html").render(context)
        readable = engines["django"].from_string(ROW_LOOP).render(context)
    return fast, readable


def rows_of(html: str) -> list[str]:
    return re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", html, re.S)


@pytest.mark.parametrize(("context", "fill_found"), VARIANTS)
def test_rowmarkup_makes_what_the_row_template_makes(account, rows, context, fill_found):
    fast, readable = both_ways(rows, account.user.zone, context, fill_found)
    assert len(rows_of(fast)) == len(rows) == 7
    assert fast == readable


@pytest.mark.parametrize(("context", "fill_found"), VARIANTS)
def test_mail_text_is_escaped_both_ways(account, rows, context, fill_found):
    fast, readable = both_ways(rows, account.user.zone, context, fill_found)
    for html in (fast, readable):
        assert "<script>" not in html and "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;" in html
        assert "Mallory &quot;&amp;&lt;&gt;&quot; &lt;mallory@example.test&gt;" in html
        assert '"&<>"' not in html
        assert "{0} %(subject)s {{ m }}" in html  # mail text is not a format string nor a template
        if context.get("show_folder"):
            assert '<td class="in-folder">Archive &lt;b&gt;&quot;&amp;</td>' in html
        assert "<b>" not in html


def test_a_row_of_a_folders_page_matches_too(account, rows):
    """page_rows gives listing.Row objects, not model instances: the same markup."""
    inbox = rows[0].folder
    inbox.total = inbox.messages.count()
    inbox.save()
    page = listing.page_rows(inbox, 0, inbox.total)
    for row in page:
        row.folder = inbox
    page = decorated(page, account)
    fast, readable = both_ways(page, account.user.zone, {"selectable": True}, False)
    assert len(rows_of(fast)) == 5
    assert fast == readable
