"""List rows bench: a page's rows made by RowMarkup.fill + webmail/_rows.html against the pure template.

One process, no server: Django set up with DJANGO_SETTINGS_MODULE=webmail.settings and production-like settings
(WEBMAIL_DEBUG=0, so the cached template loader and the manifest static storage, static files collected into a
temporary directory), a temporary SQLite file, migrated. One folder of 50 messages is stored in it, made to look
like mail (unread, flagged, attachments, conversations of 1-7 messages across two folders, non-ASCII senders and
subjects, some with HTML-special characters, one without a date, one without a subject, one from today), and its
page is read with webmail.mailbox.listing.page_rows, as the folder view does. Then, alternately, over many
repetitions, the page's rows are rendered:

- ``RowMarkup``: Dates + RowMarkup + ``fill`` of each row, then the 4-line webmail/_rows.html (what the views do);
- ``template``: Dates + a loop including webmail/_row.html for each row (``{% url %}``, ``{% static %}``, the
  date filters and the translations per row).

Both under ``timezone.override`` of the user's zone, as the views render; the sender, the date column and the
conversation's size (which the views set for both ways) are set once, before the timings. Printed: ms per page
(median, p95) of each, their ratio (template / RowMarkup, measured in the same run), and whether both made the
same HTML (also with whitespace normalised), for the folder's list (checkbox) and for search results (without
and with the folder's name).

    .venv/bin/python bench/listing.py [--repeat 500] [--rows 50]

Self-contained (bench/harness.py is not used: nothing here starts processes or needs its deadline).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MS = 2.0  # the budget for the template path, per page

SENDERS = [
    "Zoë Müller",
    "José Ñúñez",
    "Łukasz Żółć",
    "山田 太郎",
    "Анна Каренина",
    "محمد علي",
    "Søren Kierkegaard",
    '"Dr. <Evil>" & Co',
    "Tom & Jerry",
    'O\'Brien "the builder"',
    "François Lefèvre",
    "Ελένη Παπαδοπούλου",
]
SUBJECTS = [
    "Réunion de lundi — ordre du jour",
    "Re: Angebot für Größe 42 (Übergröße)",
    "Fwd: 会議の議事録",
    "<script>alert('x')</script>",
    "Q3 numbers: revenue > cost & margin < 5%",
    'Your "free" gift card',
    "Привет, как дела?",
    "Invoice #2026-0042",
    "Re: Re: lunch?",
    "🎉 Party on Friday 🎉",
    "Ünïcödé ŝüƀĵéçŧ with a rather long tail that goes on and on for the width of the column",
    "",
]


def environment(tmp: Path) -> dict[str, str]:
    """The bench's settings: production-like, in ``tmp``, never an existing database."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE") and k != "DATABASE_URL"}
    return env | {
        "DJANGO_SETTINGS_MODULE": "webmail.settings",
        "WEBMAIL_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEBMAIL_LOG_LEVEL": "WARNING",
        "WEBMAIL_SECURE_COOKIES": "0",
        "WEBMAIL_SSL_REDIRECT": "0",
        "WEBMAIL_VAR_DIR": str(tmp / "var"),
        "WEBMAIL_STATIC_ROOT": str(tmp / "static"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WEBMAIL_SECRET_KEYS": base64.b64encode(os.urandom(32)).decode(),
    }


def make_page(rows: int) -> tuple[Any, list[Any]]:
    """The user's zone and one page of a folder of ``rows`` messages, as the folder view reads and decorates it."""
    from django.utils import timezone

    from accounts.models import MailAccount, User
    from webmail.mailbox import listing
    from webmail.mailbox.models import Folder, MessageSummary, SpecialUse

    rng = random.Random(20260301)
    user = User.objects.create_user(email="bench@example.test", password=None, time_zone="Europe/Berlin")
    account = MailAccount.objects.create(user=user, label="Work", imap_host="127.0.0.1", smtp_host="127.0.0.1")
    now = timezone.now()
    inbox, sent = (
        Folder.objects.create(account=account, name=name, special_use=use, uidvalidity=1, synced_at=now)
        for name, use in (("INBOX", SpecialUse.INBOX), ('Sent <old> & "new"', SpecialUse.SENT))
    )
    threads = [f"<thread{n}@example.test>" for n in range(12)]
    for uid in range(1, rows + 1):
        sender = rng.choice(SENDERS)
        date: datetime | None = now - timedelta(minutes=37 * (rows - uid) + rng.randrange(30))
        if uid == 3:
            date = None
        elif uid == 5:
            date = datetime(2025, 7, 4, 3, 59, 59, 123456, tzinfo=UTC)  # summer time, microseconds
        thread = rng.choice(threads) if rng.random() < 0.5 else ""
        MessageSummary.objects.create(
            folder=inbox,
            uid=uid,
            seen=rng.random() < 0.6,
            flagged=rng.random() < 0.15,
            has_attachments=rng.random() < 0.25,
            from_name="" if uid == 7 else sender,
            from_address=f"{re.sub(r'[^a-z]', '', sender.lower()) or 'someone'}{uid}@example.test",
            subject=SUBJECTS[uid % len(SUBJECTS)],
            date=date,
            thread_key=thread,
        )
        if thread and rng.random() < 0.5:  # the other side of the conversation
            for n in range(rng.randrange(1, 4)):
                MessageSummary.objects.create(
                    folder=sent, uid=uid * 10 + n, seen=True, subject="Re: …", date=now, thread_key=thread
                )
    for box in (inbox, sent):
        box.total = box.messages.count()
        box.unread = box.messages.filter(seen=False).count()
        box.save()

    page = listing.page_rows(inbox, 0, rows)
    zone = user.zone
    dates = listing.Dates(zone)
    sizes = listing.thread_sizes({row.thread_key for row in page if row.thread_key}, [inbox.pk, sent.pk])
    for row in page:  # what the views set for both ways (their _decorate)
        row.folder = inbox
        row.who = row.from_name or row.from_address or "(unknown sender)"
        row.when = "no date" if row.date is None else dates.when(dates.local(row.date))
        row.thread_size = sizes.get(row.thread_key, 1) if row.thread_key else 1
    return zone, page


def squeezed(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def ms_per_page(render: Callable[[], str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p50_p95(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=500, help="renderings of the page each way (default 500)")
    parser.add_argument("--rows", type=int, default=50, help="rows of the page (default 50, the list's page)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures as they come
    with tempfile.TemporaryDirectory(prefix="bench-listing-") as tmp:
        os.environ.clear()
        os.environ.update(environment(Path(tmp)))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
        return run(args)


def run(args: argparse.Namespace) -> int:
    from django.template import engines
    from django.template.loader import get_template
    from django.utils import timezone

    from webmail.mailbox import listing

    zone, page = make_page(args.rows)
    rows_template = get_template("webmail/_rows.html")
    row_loop = engines["django"].from_string('{% for m in page %}\n{% include "webmail/_row.html" %}{% endfor %}\n')
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    print(f"command: {' '.join([sys.executable, *sys.argv])}   (code: git {revision.stdout.strip() or '?'})")
    print(f"machine: nproc={os.cpu_count()}, {platform.platform()}, Python {platform.python_version()}")
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{len(page)} rows, {sum(not row.seen for row in page)} unread, {sum(row.flagged for row in page)} flagged, "
        f"{sum(row.has_attachments for row in page)} with attachments, "
        f"{sum(row.thread_size > 1 for row in page)} in conversations; {args.repeat} renderings each way, alternating"
    )

    failed = False
    for label, context, found in (
        ("folder list (checkbox)", {"selectable": True}, False),
        ("search results", {"selectable": False, "show_folder": False}, True),
        ("search results, all folders", {"selectable": False, "show_folder": True}, True),
    ):
        context = {"page": page, **context}

        def with_markup(context: dict[str, Any] = context, found: bool = found) -> str:
            markup = listing.RowMarkup(listing.Dates(zone))
            for row in page:
                markup.fill(row, found=found)
            return rows_template.render(context)

        def with_template(context: dict[str, Any] = context) -> str:
            listing.Dates(zone)  # the views make it for the date column either way
            return row_loop.render(context)

        with timezone.override(zone):
            markup_html, template_html = with_markup(), with_template()
            same, same_squeezed = markup_html == template_html, squeezed(markup_html) == squeezed(template_html)
            markup_ms: list[float] = []
            template_ms: list[float] = []
            for _ in range(10):  # alternating blocks, so that the machine's drift hits both alike
                markup_ms += ms_per_page(with_markup, args.repeat // 10)
                template_ms += ms_per_page(with_template, args.repeat // 10)
        (m50, m95), (t50, t95) = p50_p95(markup_ms), p50_p95(template_ms)
        failed |= not same_squeezed
        print(f"\n{label}:")
        print(f"  RowMarkup.fill + _rows.html: p50 {m50:.3f} ms, p95 {m95:.3f} ms per page")
        print(f"  template (_row.html):        p50 {t50:.3f} ms, p95 {t95:.3f} ms per page")
        print(f"  template / RowMarkup:        p50 {t50 / m50:.2f}x, p95 {t95 / m95:.2f}x")
        print(f"  template path p50 {'within' if t50 <= LIMIT_MS else 'OVER'} the {LIMIT_MS:.0f} ms budget")
        equal = "yes, byte for byte" if same else f"whitespace normalised: {'yes' if same_squeezed else 'NO'}"
        print(f"  same HTML: {equal}")
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
