"""The message list, cheaply: one page of rows from the database and their markup.

A list page shows fifty rows; rendering each through template tags (a ``{% url %}``, three date
formats, a ``{% blocktranslate %}`` and a dozen ``{% if %}`` per row) cost more than everything
else on the page together. Here the per-request parts (translated words, icon URLs, the URL
pattern of a message) are worked out once, dates are formatted once per day or minute, and each
row is built from fixed markup into which every value goes escaped (``_html``, the escaping of
``format_html``): sender, subject and folder names are mail, untrusted text.

Measured, not assumed (the issue: "row markup in templates unless a benchmark shows the template
path costs more than 2 ms per page"): ``.venv/bin/python bench/listing.py`` renders a 50-row page
both ways. The template of one row (webmail/_row.html, included per row) took p50 29.5 ms per page
against 3.5 ms for RowMarkup.fill + webmail/_rows.html (8.4x; p95 60 against 8.5 ms), folder list,
500 renderings each, 2 cores under load 4-6 (another run, load 4-9: 44.9 against 5.4 ms, 8.3x);
search pages 29-31 against 5.3-5.6 ms (5.4-5.5x). Even on a quiet machine (at most 3x better) that
is several times the 2 ms budget, so the rows stay here. webmail/_row.html stays as their readable
form: tests/webmail/mailbox/test_listing.py checks that both make the same HTML, byte for byte,
hostile text included.

Deep pages: ``OFFSET n`` makes the database fetch and drop n whole rows. A page near either end
of a folder is read with a short OFFSET (from the oldest message at the end of a complete
folder). A page further in starts from a milestone: the (date, UID) of every thousandth row,
worked out in one pass over the index and kept in the cache until the folder's rows change, so
that a page costs the same wherever it is. Without milestones (rows without a date around the
page, say), the page's first row is found with an index-only walk and the rows read from there.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection, connections
from django.db.models import Q, QuerySet
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import dates
from webmail.mailbox.models import Folder, MessageSummary

# What the list reads of a row (not the References, Cc or Message-ID it does not show).
LIST_FIELDS = (
    "id",
    "folder_id",
    "uid",
    "seen",
    "flagged",
    "from_name",
    "from_address",
    "to",
    "subject",
    "date",
    "has_attachments",
    "thread_key",
    "preview",
)

# From how many rows above a page on its first row is looked up first (below, OFFSET is as quick).
ANCHOR_FROM = 1000
# Every this many rows a milestone; a deep page walks at most this many index entries.
MILESTONE_EVERY = 1000
MILESTONE_SECONDS = 3600

# An integer no URL of ours holds: reverse() once with it, then put the real value in its place.
_SLOT = 31415926535897932384


def url_maker(name: str, *args) -> Callable[[int], str]:
    """The URLs of ``name`` that differ only in their last argument, an integer: one reverse()."""
    head, slot, tail = reverse(name, args=[*args, _SLOT]).rpartition(str(_SLOT))
    if not slot:  # pragma: no cover - only if a converter rewrote the number
        return lambda value: reverse(name, args=[*args, value])
    return lambda value: f"{head}{int(value)}{tail}"


# -- dates ------------------------------------------------------------------------------------

# Format characters whose output depends on the calendar day only, or on the hour and minute
# only (see django.utils.dateformat); the others (seconds, time zone, "c", "r", "U") are
# formatted for each value.
_DAY = frozenset("bdDEFjlLmMnNoStwWyYz")
_CLOCK = frozenset("aAfgGhHiP")


class Dates:
    """Django's date formats (``date_format``) for one request in one time zone, with what a
    page's rows share (their days, their minutes) formatted once."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.today = timezone.localtime(timezone.now(), zone).date()
        self._formats: dict[str, list[tuple[str, str]]] = {}
        self._memo: dict[tuple, str] = {}

    def _pieces(self, name: str) -> list[tuple[str, str]]:
        pieces = self._formats.get(name)
        if pieces is None:
            pieces = []
            for i, piece in enumerate(re_formatchars.split(str(get_format(dates.pattern(name))))):
                if i % 2:
                    pieces.append((piece, "day" if piece in _DAY else "clock" if piece in _CLOCK else "each"))
                elif piece:
                    pieces.append((re_escaped.sub(r"\1", piece), "text"))
            self._formats[name] = pieces
        return pieces

    def format(self, value: date | time | datetime, name: str) -> str:
        """What ``django.utils.formats.date_format(value, name)`` (or ``time_format``) gives."""
        out = []
        formatter = None
        for piece, kind in self._pieces(name):
            if kind == "text":
                out.append(piece)
                continue
            if kind == "day":
                key: tuple | None = (piece, value.year, value.month, value.day)
            elif kind == "clock":
                key = (piece, value.hour, value.minute)
            else:
                key = None
            text = self._memo.get(key) if key else None
            if text is None:
                formatter = formatter or DateFormat(value)
                text = str(getattr(formatter, piece)())
                if key:
                    self._memo[key] = text
            out.append(text)
        return "".join(out)

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.zone)

    def when(self, local: datetime) -> str:
        """The list's date column: the time for today's mail, else the short date."""
        if local.date() == self.today:
            return self.format(local.time(), "TIME_FORMAT")
        return self.format(local.date(), "SHORT_DATE_FORMAT")


# -- rows -------------------------------------------------------------------------------------


def _html(template: str, *args) -> SafeString:
    """``format_html`` for the rows' loop: the same escaping (``html.escape``, which is what
    ``django.utils.html.escape`` applies) of every argument not already safe markup, without
    the lazy-string checks that made it the page's largest cost."""
    return SafeString(template.format(*(arg if isinstance(arg, SafeData) else html.escape(str(arg)) for arg in args)))


class RowMarkup:
    """The cells of the list's rows, for one request (its language, time zone and URLs)."""

    def __init__(self, dates: Dates) -> None:
        self.dates = dates
        unread = format_html('<span class="visually-hidden">{}</span>', _("Unread"))
        flag = format_html(
            '<img class="icon" src="{}" alt="{}" title="{}" width="14" height="14">',
            static("img/mail/flag.svg"),
            _("Flagged"),
            _("Flagged"),
        )
        self.marks = {
            (seen, flagged): format_html('<td class="mark">{}{}</td>', "" if seen else unread, flag if flagged else "")
            for seen in (False, True)
            for flagged in (False, True)
        }
        # The row's classes, as the template had them: "unread", "unread flagged", " flagged", "".
        self.classes = {
            (seen, flagged): SafeString(("" if seen else "unread") + (" flagged" if flagged else ""))
            for seen in (False, True)
            for flagged in (False, True)
        }
        self.clips = {
            False: SafeString('<td class="clip"></td>'),
            True: format_html(
                '<td class="clip"><img class="icon" src="{}" alt="{}" title="{}" width="14" height="14"></td>',
                static("img/mail/attachment.svg"),
                _("Has attachments"),
                _("Has attachments"),
            ),
        }
        self.no_subject = _("(no subject)")
        self.select = _("Select “%(subject)s”")
        self.preserve, self.no_preserve = SafeString(' hx-preserve="true"'), SafeString("")
        self.show_thread = _("Show the conversation")
        self._message_urls: dict[int, Callable[[int], str]] = {}
        self._thread_urls: dict[int, Callable[[int], str]] = {}
        self._counts: dict[int, str] = {}

    def message_url(self, folder_id: int, uid: int) -> str:
        make = self._message_urls.get(folder_id)
        if make is None:
            make = self._message_urls[folder_id] = url_maker("mailbox:message", folder_id)
        return make(uid)

    def thread_url(self, folder_id: int, summary_id: int) -> str:
        make = self._thread_urls.get(folder_id)
        if make is None:
            make = self._thread_urls[folder_id] = url_maker("mailbox:thread", folder_id)
        return make(summary_id)

    def fill(self, row: MessageSummary | Row, *, found: bool = True) -> None:
        """The row's markup, for webmail/_rows.html: ``row`` (with its checkbox, for a folder's
        list) and, if ``found``, ``row_plain`` and ``row_in_folder`` (search results, without and
        with the folder's name). ``row`` has ``who``, ``when`` and ``thread_size`` (webmail/views.py
        ``_decorate``)."""
        subject = row.subject or self.no_subject
        css = self.classes[(bool(row.seen), bool(row.flagged))]
        pick = self.pick(row, subject, in_search=False)
        mark = self.marks[(bool(row.seen), bool(row.flagged))]
        if row.thread_size > 1:
            thread = _html(
                '<a class="thread-count" href="{}" title="{}">{}</a>',
                self.thread_url(row.folder_id, row.pk),
                self.show_thread,
                self.in_conversation(row.thread_size),
            )
        else:
            thread = SafeString("")
        if row.date:
            local = self.dates.local(row.date)
            when = _html(
                '<time datetime="{}" title="{}">{}</time>',
                local.isoformat(),
                self.dates.format(local, "DATETIME_FORMAT"),
                row.when,
            )
        else:
            when = _html('<span class="muted">{}</span>', row.when)
        preview = _html('<span class="preview">{}</span>', row.preview) if row.preview else SafeString("")
        cells = _html(
            '<td class="who">{}</td>\n  <td class="subject">\n    <a href="{}">{}</a>\n    {}{}\n  </td>\n'
            '  {}\n  <td class="when">{}</td>\n</tr>',
            row.who,
            self.message_url(row.folder_id, row.uid),
            subject,
            thread,
            preview,
            self.clips[bool(row.has_attachments)],
            when,
        )
        row.row = _html('<tr class="{}">\n  {}\n  {}\n  {}', css, pick, mark, cells)
        if not found:
            return
        pick = self.pick(row, subject, in_search=True)
        row.row_plain = _html('<tr class="{}">\n  {}\n  {}\n  {}', css, pick, mark, cells)
        row.row_in_folder = _html(
            '<tr class="{}">\n  {}\n  {}\n  <td class="in-folder">{}</td>\n  {}',
            css,
            pick,
            mark,
            row.folder.name,
            cells,
        )

    def pick(self, row: MessageSummary | Row, subject: str, *, in_search: bool) -> SafeString:
        """The row's checkbox: its UID in a folder's list; "folder:uid" in search results, which
        come from several folders (and are not swapped by live updates: no hx-preserve)."""
        name = f"{row.folder_id}:{row.uid}" if in_search else str(row.uid)
        return _html(
            '<td class="pick"><input type="checkbox" name="uid" value="{}" id="pick-{}"{} aria-label="{}"></td>',
            name,
            name.replace(":", "-"),
            self.no_preserve if in_search else self.preserve,
            self.select % {"subject": subject},
        )

    def in_conversation(self, size: int) -> str:
        text = self._counts.get(size)
        if text is None:
            counted = ngettext("%(counter)s in conversation", "%(counter)s in conversation", size)
            text = self._counts[size] = counted % {"counter": size}
        return text


# -- one page of a folder ---------------------------------------------------------------------


class Row:
    """One message of a list page: the ``LIST_FIELDS`` of its MessageSummary, as attributes,
    without what building a model instance costs."""

    def __init__(self, values: tuple) -> None:
        self.__dict__.update(zip(LIST_FIELDS, values, strict=True))

    @property
    def pk(self) -> int:
        return self.id


def page_rows(folder: Folder, bottom: int, top: int) -> list[Row]:
    """Rows ``bottom`` to ``top`` (exclusive) of the folder, newest first: what
    ``folder.messages.all()[bottom:top]`` gives, without fetching the rows above the page."""
    if top <= bottom:
        return []
    rows = folder.messages.values_list(*LIST_FIELDS)  # ordered -date, -uid (the model's Meta)
    count = top - bottom
    # Counted from the oldest when that is shorter; only the synced count of a complete
    # folder says where the end is.
    backwards = folder.is_complete and folder.total - top < bottom
    skip = folder.total - top if backwards else bottom
    if skip < ANCHOR_FROM:
        found = list((rows.reverse() if backwards else rows)[skip : skip + count])
        if backwards:
            found.reverse()
    else:
        found = _from_milestone(folder, rows, bottom, count)
        if found is None:
            found = _from_anchor(rows, bottom, count)
    return [Row(values) for values in found]


def _from_milestone(folder: Folder, rows: QuerySet, bottom: int, count: int) -> list[tuple] | None:
    """``rows[bottom:bottom + count]`` read on from the nearest milestone above it, or None when
    that cannot say: no dated milestone above the page, or the page reaches the rows without a
    date at the end (SQLite sorts NULL as the smallest value; PostgreSQL puts them first)."""
    above = [mark for mark in milestones(folder) if mark[0] <= bottom and mark[1] is not None]
    if not above:
        return None
    position, moment, uid = above[-1]
    found = list(rows.filter(_from_row(moment, uid))[bottom - position : bottom - position + count])
    return found if len(found) == count else None


def milestones(folder: Folder) -> list[tuple]:
    """The folder's milestones, newest first, as (position, date, UID); from the cache while the
    folder's rows stay the same.

    The key holds what any change of the rows changes: a new message moves UIDNEXT, a removed
    one the count, a backfill its lower bound, a new UIDVALIDITY everything. The rows and the
    count can disagree only while a sync is storing; a page then may be a few rows off, and the
    folder's next key is new.
    """
    key = (
        f"webmail:milestones:{folder.pk}:{folder.uidvalidity}:{folder.uidnext}:{folder.total}:"
        f"{folder.backfill_below}:{MILESTONE_EVERY}"
    )
    found = cache.get(key)
    if found is None:
        found = _count_milestones(folder.pk)
        cache.set(key, found, MILESTONE_SECONDS)
    return found


def _count_milestones(folder_id: int) -> list[tuple]:
    """One pass over the folder's (date, UID) index in the list's order (see the model's Meta)."""
    table = connection.ops.quote_name(MessageSummary._meta.db_table)
    sql = (  # the table's name from the model, every value a parameter
        "SELECT n, date, uid FROM ("  # noqa: S608
        "SELECT date, uid, ROW_NUMBER() OVER (ORDER BY date DESC, uid DESC) - 1 AS n "
        f"FROM {table} WHERE folder_id = %s) AS ranked WHERE n %% %s = 0 ORDER BY n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [folder_id, MILESTONE_EVERY])
        found = cursor.fetchall()
    if connection.vendor == "sqlite":  # dates come back as text there
        field = MessageSummary._meta.get_field("date")
        found = [
            (n, connection.ops.convert_datetimefield_value(moment, field, connection), uid) for n, moment, uid in found
        ]
    return found


def _from_row(moment: datetime, uid: int) -> Q:
    """The row (moment, uid) and every row after it, newest first: a range of the (folder, date,
    UID) index; the OR only drops the row's date-mates before it."""
    return Q(date__lte=moment) & (Q(date__lt=moment) | Q(uid__lte=uid))


def _from_anchor(rows: QuerySet, skip: int, count: int) -> list[tuple]:
    """``rows[skip:skip + count]``: the first row's (date, UID) from the index alone, then the
    page from that row on."""
    anchor = list(rows.values_list("date", "uid")[skip : skip + 1])
    if not anchor:
        return []
    moment, uid = anchor[0]
    if moment is None:  # where a database sorts NULL dates is its own business: as asked
        return list(rows[skip : skip + count])
    found = list(rows.filter(_from_row(moment, uid))[:count])
    # Where NULL sorts as the smallest value (SQLite), rows without a date come after every dated
    # row: asked for apart, so that the query above stays a range of the index.
    if len(found) < count and not connections[rows.db].features.nulls_order_largest:
        found += rows.filter(date__isnull=True)[: count - len(found)]
    return found


def thread_sizes(keys: set[str], folder_ids: list[int]) -> dict[str, int]:
    """How many cached messages of these folders each conversation (thread key) has.

    By thread key first (its index is the selective one), no join: the planners otherwise walk
    the whole account's cache. The ORM's GROUP BY query, written out: building it cost more
    than running it.
    """
    if not keys or not folder_ids:
        return {}
    table = connection.ops.quote_name(MessageSummary._meta.db_table)
    in_keys, in_folders = ", ".join(["%s"] * len(keys)), ", ".join(["%s"] * len(folder_ids))
    sql = (  # the table's name from the model, every value a parameter
        f"SELECT thread_key, COUNT(*) FROM {table} "  # noqa: S608
        f"WHERE thread_key IN ({in_keys}) AND folder_id IN ({in_folders}) GROUP BY thread_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys, *folder_ids])
        return dict(cursor.fetchall())
