"""The mail watcher: IMAP IDLE on the INBOX of each active user's account (see
``webmail.mailbox.watcher``). Several can run side by side; SIGTERM or Ctrl-C stops it cleanly."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from webmail.mailbox.watcher import Watcher


class Command(BaseCommand):
    help = "Watch the INBOX of each active user's mail account over IMAP IDLE and sync it as mail arrives."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-accounts", type=int, default=None, help="accounts this process watches at most")

    def handle(self, *args, max_accounts: int | None, **options) -> None:
        if max_accounts is not None and max_accounts < 1:
            raise CommandError("--max-accounts must be at least 1")
        watcher = Watcher(max_accounts=max_accounts)

        def stop(signum, frame) -> None:
            watcher.stop()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Mail watcher {watcher.owner} started (at most {watcher.max_accounts} accounts).")
        watcher.run()
        self.stdout.write(f"Mail watcher {watcher.owner} stopped.")
