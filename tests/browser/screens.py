"""The mail of the layout tests and of the README's screenshots: a small, believable inbox."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from tests.browser.helpers import PIXEL

# (sender, address, subject, text, seen, flagged, attachment)
INBOX = [
    ("Ann Example", "ann@example.test", "Lunch on Friday?",
     "Shall we try the new place on the corner? I can book for 12:30.", False, False, False),
    ("Build robot", "ci@example.test", "Nightly build passed",
     "All 1,284 tests passed in 6 min 12 s.", False, False, False),
    ("Marta Ruiz", "marta@example.test", "Quarterly figures, final",
     "Here are the final numbers for the board.\nThe deck is attached.", False, True, True),
    ("Jonas Weber", "jonas@example.test", "Re: Offsite in May",
     "Works for me. Train or car?", True, False, False),
    ("Priya Natarajan", "priya@example.test", "Design review notes",
     "Thanks all for today. Notes below; the open questions are at the end.", True, True, False),
    ("Calendar", "calendar@example.test", "Reminder: dentist tomorrow 9:00",
     "This is a reminder of your appointment.", True, False, False),
    ("Olu Adeyemi", "olu@example.test", "Photos from the weekend",
     "A few from Saturday; the rest are in the shared album.", True, False, True),
    ("Support desk", "help@example.test", "Your ticket #4821 was answered",
     "We have replied to your request about the printer on floor 3.", True, False, False),
    ("Lena Fischer", "lena@example.test", "Contract draft v3",
     "Changes from v2 are marked; section 7 is new.", True, False, True),
    ("Newsletter", "news@example.test", "This week in open source",
     "Ten things worth reading this week.", True, False, False),
    ("Tom Baker", "tom@example.test", "Keys for the flat",
     "I left them with the neighbour downstairs.", True, False, False),
    ("Ann Example", "ann@example.test", "Slides for Monday",
     "Slides attached; I will send the handout later.", True, False, True),
]  # fmt: skip


def inbox_messages(to: str, now: datetime | None = None) -> list[tuple[bytes, list[str]]]:
    """The messages, oldest first (the order to deliver them in), with their IMAP flags."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=20)
    out = []
    for n, (name, address, subject, text, seen, flagged, attachment) in enumerate(INBOX):
        message = EmailMessage()
        message["From"] = f"{name} <{address}>"
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(start - timedelta(hours=5 * n))
        message["Message-ID"] = f"<layout{n}@example.test>"
        message.set_content(f"Hi Rita,\n\n{text}\n\n{name.split()[0]}\n")
        if attachment:
            message.add_attachment(PIXEL, maintype="image", subtype="png", filename="figures.png")
        flags = ["\\Seen"] * seen + ["\\Flagged"] * flagged
        out.append((message.as_bytes(), flags))
    return out[::-1]


def screenshot_dir(tmp_path: Path) -> Path:
    """Where the screenshots go: WEBMAIL_SCREENSHOTS (bench/screenshots.py sets it to
    docs/screenshots), else a folder of the test's own."""
    folder = Path(os.environ.get("WEBMAIL_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
