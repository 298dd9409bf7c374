"""The mailbox bench's mail: generated but realistic messages, written straight into a maildir folder.

Threads with References, RFC 2047 names and subjects (UTF-8 and Latin-1), a few attachments, 2-50 KB.
"""

from __future__ import annotations

import base64
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path


def words(text: str) -> list[str]:
    return text.split()


FIRST = words("Anna Ben Carla David Emma Farid Greta Hugo Ines Jonas Kira Lars Mia Noah Olga Paul Rosa Sven")
LAST = words("Berger Costa Dubois Eriksen Fischer Garcia Hansen Ivanova Jensen Keller Larsen Moreau Novak")
UNICODE_NAMES = ["José Müller", "Zoë Ødegaard", "Łukasz Wąsik", "Renée Fåhræus", "李雷", "Ελένη Παππά", "Jürgen Groß"]
DOMAINS = ["example.test", "corp.example", "mail.example.org", "lists.example.net", "partner.example"]
TOPICS = [
    "quarterly report",
    "budget review",
    "supplier schedule",
    "release planning",
    "invoice {n}",
    "contract renewal",
    "team offsite",
    "server maintenance window",
    "customer feedback",
    "hiring update",
    "security audit findings",
    "travel expenses",
]
UNICODE_TOPICS = ["Café in Zürich", "Résumé für Malmö", "Préavis de maintenance", "Встреча в пятницу", "会议记录"]
WORDS = words(
    "the team agreed that our report and budget review should move to next week because several customers asked "
    "about delivery dates invoices contracts and the supplier schedule please find the updated numbers below and "
    "send me your comments before Thursday so we can close this item in the meeting"
)


def encoded(text: str, rng: random.Random) -> str:
    """``text`` as an RFC 2047 encoded word when it is not ASCII (B or Q, UTF-8 or Latin-1 when it fits)."""
    if text.isascii():
        return text
    charset = "iso-8859-1" if rng.random() < 0.3 and all(ord(ch) < 256 for ch in text) else "utf-8"
    return Header(text, charset).encode()


@dataclass
class Corpus:
    """Messages of one folder, oldest first: threads with References, a few attachments, 2-50 KB."""

    rng: random.Random
    domain_tag: str
    senders: list[tuple[str, str]] = field(default_factory=list)
    threads: list[tuple[str, list[str]]] = field(default_factory=list)  # (subject, message ids)
    filler: str = ""
    blob: bytes = b""

    def __post_init__(self) -> None:
        rng = self.rng
        for i in range(600):
            name = rng.choice(UNICODE_NAMES) if i % 12 == 0 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            local = name.split()[0].lower() if name.isascii() else f"user{i}"
            self.senders.append((name if i % 9 else "", f"{local}.{i}@{rng.choice(DOMAINS)}"))
        lines = []
        for _ in range(2500):
            lines.append(" ".join(rng.choices(WORDS, k=rng.randint(8, 14))).capitalize() + ".")
        self.filler = "\n".join(lines)
        self.blob = base64.encodebytes(rng.randbytes(60_000))

    def message(self, n: int, when: datetime) -> bytes:
        rng = self.rng
        name, address = rng.choice(self.senders)
        sender = f"{encoded(name, rng)} <{address}>" if name else address
        message_id = f"<{n}.{self.domain_tag}@{address.split('@')[1]}>"
        headers = [f"From: {sender}", f"Date: {format_datetime(when)}", f"Message-ID: {message_id}"]
        recipients = ["Bench Reader <bench@example.test>"] + [
            f"{a}" for _name, a in rng.sample(self.senders, rng.choice((0, 0, 0, 1, 2, 4)))
        ]
        headers.append("To: " + ",\n ".join(recipients))
        if rng.random() < 0.15:
            headers.append("Cc: " + ", ".join(a for _name, a in rng.sample(self.senders, 2)))
        if self.threads and rng.random() < 0.4:  # a reply in a recent conversation
            index = len(self.threads) - 1 - min(int(rng.expovariate(1 / 20)), len(self.threads) - 1)
            subject, ids = self.threads[index]
            headers.append(f"Subject: {encoded('Re: ' + subject, rng)}")
            headers.append(f"In-Reply-To: {ids[-1]}")
            headers.append("References: " + "\n ".join([ids[0], *ids[-9:]][-10:]))
            ids.append(message_id)
        else:
            topic = rng.choice(UNICODE_TOPICS) if rng.random() < 0.12 else rng.choice(TOPICS).format(n=n)
            subject = f"{topic.capitalize() if topic.isascii() else topic} ({n % 997})"
            headers.append(f"Subject: {encoded(subject, rng)}")
            self.threads.append((subject, [message_id]))
            del self.threads[:-300]
        headers.append("MIME-Version: 1.0")
        target = int(math.exp(rng.uniform(math.log(2048), math.log(50 * 1024))))
        start = rng.randrange(0, len(self.filler) - 60_000)
        if rng.random() < 0.05:  # an attachment
            boundary = f"=_bench_{n}"
            attachment = self.blob[: max(1024, target - 1500)]
            body_text = self.filler[start : start + 1000]
            headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
            body = (
                f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                f'{body_text}\n--{boundary}\nContent-Type: application/pdf; name="report-{n}.pdf"\n'
                f'Content-Disposition: attachment; filename="report-{n}.pdf"\nContent-Transfer-Encoding: base64\n\n'
                f"{attachment.decode('ascii')}\n--{boundary}--\n"
            )
        else:
            headers.append("Content-Type: text/plain; charset=utf-8")
            headers.append("Content-Transfer-Encoding: 8bit")
            body = self.filler[start : start + max(200, target - 600)] + "\n"
        return ("\n".join(headers) + "\n\n" + body).encode()


def fill_maildir(folder_dir: Path, n: int, corpus: Corpus, check: Callable[[], object]) -> tuple[int, datetime]:
    """Write ``n`` messages into a new maildir folder, oldest first; returns (bytes, newest date).

    File names carry S= and W= (Dovecot need not stat or read a file for RFC822.SIZE) and a time that
    grows with the message, which is the order Dovecot assigns UIDs in; mtime is the INTERNALDATE."""
    for sub in ("cur", "new", "tmp"):
        (folder_dir / sub).mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    step = timedelta(days=3 * 365) / n
    base = now - step * n
    total = 0
    rng = corpus.rng
    zones = [timezone(timedelta(hours=h)) for h in (0, 1, 2, -5, -8, 9, 5.5)]
    for i in range(n):
        when = (base + step * (i + 1)).astimezone(rng.choice(zones)).replace(microsecond=0)
        data = corpus.message(i, when)
        seen = i < n - 300 or rng.random() < 0.5
        flags = ("F" if rng.random() < 0.03 else "") + ("R" if rng.random() < 0.1 else "") + ("S" if seen else "")
        stamp = when.timestamp()
        virtual = len(data) + data.count(b"\n")  # RFC822.SIZE counts CRLF line ends
        name = f"{int(stamp)}.M{i % 1_000_000}P{i}.bench,S={len(data)},W={virtual}:2,{flags}"
        path = folder_dir / "cur" / name
        path.write_bytes(data)
        os.utime(path, (stamp, stamp))
        total += len(data)
        if i % 2000 == 0:
            check()
    return total, base + step * n
