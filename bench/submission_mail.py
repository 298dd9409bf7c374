"""The submission bench's mail: the SMTP sink's process, the drafts it sends, what it reads back, and the raw
aiosmtplib client of the baselines.

Nothing here imports Django at module level (the sink's process is forked before Django is set up).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import ssl
import textwrap
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.servers.certs import TestPKI
from tests.servers.smtpd import SMTPServer

LOGIN, PASSWORD = "bench@example.test", "bench-password-not-a-secret"
TEXT = "the team agreed that our quarterly report and budget review should move to next week because several \
customers asked about delivery dates invoices contracts and the supplier schedule please find the updated \
numbers below and send me your comments before Thursday so we can close this café Zürich résumé Malmö"
WORDS = TEXT.split()


def sink_main(pki: TestPKI, pipe: Connection) -> None:
    """The submission server, in its own process: answers "count" (and forgets), stops on anything else.

    A count is "<messages> (<distinct message bytes> distinct)": the same bytes twice is a duplicate send."""
    server = SMTPServer(pki, "starttls", {LOGIN: PASSWORD})
    server.start()
    pipe.send(server.port)
    while pipe.recv() == "count":
        messages = server.messages
        pipe.send(f"{len(messages)} ({len({m.data for m in messages})} distinct)")
        server.reset()
    server.stop()


class Sink:
    """The sink's process (:func:`sink_main`), forked: make it before Django or any thread exists."""

    def __init__(self, pki: TestPKI) -> None:
        fork = multiprocessing.get_context("fork")
        self.pipe, theirs = fork.Pipe()
        self.process = fork.Process(target=sink_main, args=(pki, theirs), daemon=True)

    def start(self) -> int | None:
        """Start it; returns its port, or None if it did not say within 30 s."""
        self.process.start()
        return self.pipe.recv() if self.pipe.poll(30) else None

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def count(self) -> str:
        """What it received since the last count: "<messages> (<distinct> distinct)"."""
        self.pipe.send("count")
        return self.pipe.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send("stop")
        if self.process.pid is not None:
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()


def make_draft(identity: Any, i: int, rng: random.Random, size: int = 9500) -> Any:
    """A plain-text message to one recipient, about 10 KB once encoded."""
    from outbox.compose import Draft, Mailbox

    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < size:
        sentences = [" ".join(rng.choices(WORDS, k=rng.randint(8, 18))).capitalize() + "." for _ in range(5)]
        paragraphs.append(textwrap.fill(" ".join(sentences), 72))
    body = "Hello,\n\n" + "\n\n".join(paragraphs) + "\n\nBest regards,\nBench Sender"
    to = [Mailbox(f"Reader {i}", f"reader{i}@example.test")]
    return Draft(identity=identity, to=to, subject=f"Notes from the planning meeting, part {i}", body=body)


def make_big_draft(identity: Any, i: int, size: int) -> Any:
    """A short text with an attachment of ``size`` random bytes (base64: about 4/3 of that)."""
    from outbox.compose import Attachment, Draft, Mailbox

    attachment = Attachment(f"archive-{i}.bin", "application/octet-stream", os.urandom(size))
    to = [Mailbox(f"Reader {i}", f"reader{i}@example.test")]
    return Draft(identity=identity, to=to, subject=f"The archive, part {i}", body="Attached.", attachments=[attachment])


def create_sender(port: int, ca_pem: str) -> Any:
    """The bench's user, their account on the sink and their identity."""
    from accounts.models import Identity, MailAccount, Security, User

    user = User.objects.create_user(LOGIN, None, full_name="Bench Sender")
    account = MailAccount(user=user, smtp_host="127.0.0.1", smtp_port=port, server_saves_sent=True)
    account.smtp_security, account.ca_certificates = Security.STARTTLS, ca_pem
    account.set_secret("imap_password", PASSWORD)
    account.save()
    return Identity.objects.create(user=user, account=account, address=LOGIN, display_name="Bench Sender")


def queued_doorbells(env: dict[str, str], tmp: Path) -> int:
    """Task messages waiting in the broker: Redis's queue, or the filesystem broker's files in ``tmp``."""
    if url := env.get("REDIS_URL"):
        import redis

        return int(redis.Redis.from_url(url).llen("celery"))
    return sum(1 for _ in (tmp / "var" / "broker" / "queue").iterdir())


def analyze_outbox() -> None:
    """Planner statistics of the outbox's tables. Autovacuum analyzes a table within about a
    minute of it growing by a tenth; the burst drains the rows it just stored at once, and
    without statistics PostgreSQL reads the whole recipient table for each batch."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE outbox_outgoingmessage, outbox_recipient, outbox_deliveryattempt")


def timeline() -> dict[str, tuple[float, float, float]]:
    """message id -> (created_at, MAIL FROM sent, accepted = end of DATA), as POSIX times."""
    from outbox.models import DeliveryAttempt

    attempts = DeliveryAttempt.objects.filter(step__in=("mail", "data"), code=250).order_by("message_id", "started_at")
    rows = list(attempts.values_list("message_id", "step", "started_at", "duration_ms", "message__created_at"))
    mail = {str(m): s.timestamp() for m, step, s, _d, _c in rows if step == "mail"}
    return {
        str(m): (c.timestamp(), mail[str(m)], (s + timedelta(milliseconds=d)).timestamp())
        for m, step, s, d, c in rows
        if step == "data"
    }


async def raw_send(messages: list[tuple[str, str, bytes]], port: int, ca_pem: str, width: int) -> None:
    """(sender, recipient, bytes) over ``width`` connections at once, each logged in, in turn on each."""
    import aiosmtplib

    async def lane(share: list[tuple[str, str, bytes]]) -> None:
        context = ssl.create_default_context(cadata=ca_pem)
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=True, tls_context=context, timeout=60)
        await client.connect()
        await client.login(LOGIN, PASSWORD)
        for sender, recipient, data in share:
            await client.sendmail(sender, [recipient], data)
        await client.quit()

    await asyncio.gather(*(lane(messages[i::width]) for i in range(width)))
