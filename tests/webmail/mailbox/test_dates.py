"""Dates in the order each user chose (Settings → Date format), else their language's own: the
list's date column and its tooltip, and the formats behind every other date shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts import dates
from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import sign_in
from tests.webmail.mailbox.helpers import cached_folder, cached_message

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(db, published):
    user = UserFactory(email="dora@example.test", full_name="Dora Dates", time_zone="Europe/Berlin")
    return MailAccountFactory(user=user)


def date_cell(client, folder) -> str:
    html = client.get(reverse("mailbox:folder", args=[folder.pk])).content.decode()
    return re.search(r'<td class="when"><time [^>]*title="([^"]*)">([^<]*)</time>', html).groups()


@pytest.mark.parametrize(
    ("language", "choice", "shown", "title"),
    [
        ("en", "", "03/01/2026", "March 1, 2026, 1 p.m."),
        ("de", "", "01.03.2026", "1. März 2026 13:00"),
        ("fr", "", "01/03/2026", "1 mars 2026 13:00"),
        ("de", "iso", "2026-03-01", "2026-03-01 13:00"),
        ("fr", "mdy", "03/01/2026", "03/01/2026 13:00"),
        ("en", "dmy", "01/03/2026", "01/03/2026 1 p.m."),
    ],
)
def test_the_list_shows_dates_as_the_user_chose(account, language, choice, shown, title):
    user = account.user
    user.language, user.date_format = language, choice
    user.save()
    inbox = cached_folder(account)
    cached_message(inbox, 1, date=WHEN)
    inbox.total = 1
    inbox.save()
    assert date_cell(sign_in(Client(), user), inbox) == (title, shown)


def test_a_choice_applies_only_where_it_is_active():
    with translation.override("de"):
        assert dates.shown(WHEN, "SHORT_DATE_FORMAT") == "01.03.2026"
        with dates.override("mdy"):
            assert dates.shown(WHEN, "SHORT_DATE_FORMAT") == "03/01/2026"
            assert dates.shown(WHEN, "TIME_FORMAT") == "12:00"  # the clock stays the language's
        with dates.override("nonsense"):
            assert dates.shown(WHEN, "DATE_FORMAT") == "1. März 2026"
        assert dates.current() == ""
