"""Helpers of the mailbox tests: filling Dovecot and reading it back behind the app's back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from webmail.mailbox import sync
from webmail.mailbox.models import Folder, MessageSummary, SpecialUse
from webmail.protocol import imap


def folder_named(account, name: str) -> Folder:
    return Folder.objects.get(account=account, name=name)


def deliver_all(dovecot, address: str, raws, folder: str = "INBOX", flags=()) -> list[int]:
    """APPEND several messages over one connection; returns their UIDs."""
    uids = []
    client = dovecot.login(address)
    try:
        for raw in raws:
            response = client.append(folder, raw, flags=tuple(flags))
            uids.append(int(re.search(rb"APPENDUID \d+ (\d+)", response).group(1)))
    finally:
        client.logout()
    return uids


def server_flags(dovecot, address: str, folder: str = "INBOX") -> dict[int, set[bytes]]:
    """UID -> flags as Dovecot has them, read without changing anything."""
    client = dovecot.login(address)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        return {uid: set(data[b"FLAGS"]) for uid, data in client.fetch(uids, [b"FLAGS"]).items()} if uids else {}
    finally:
        client.logout()


def server_subjects(dovecot, address: str, folder: str = "INBOX") -> list[str]:
    client = dovecot.login(address)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, [b"ENVELOPE"]) if uids else {}
        return sorted((data[b"ENVELOPE"].subject or b"").decode() for data in fetched.values())
    finally:
        client.logout()


def sync_account(account, folder_names=None, **options) -> list[Folder]:
    """Sync the account's folder list, then each selectable folder named (all, if None) over one
    connection, and return them: what the app's tasks do folder by folder, at once."""
    with imap.logged_in(account) as client:
        folders = sync.sync_folder_list(client, account)
        wanted = set(folder_names) if folder_names is not None else None
        return [
            sync.sync_folder(client, folder, **options)
            for folder in folders
            if folder.selectable and (wanted is None or folder.name in wanted)
        ]


def cached_folder(account, name: str = "INBOX", use: str = SpecialUse.INBOX) -> Folder:
    """A folder as a complete sync leaves it, without a server (its count kept by the sync)."""
    return Folder.objects.create(account=account, name=name, special_use=use, uidvalidity=1, synced_at=timezone.now())


def cached_message(folder: Folder, uid: int, **fields) -> MessageSummary:
    """A cached envelope: subject, sender and date from the UID, read, unless ``fields`` say."""
    values = {
        "subject": f"Message {uid}",
        "from_name": f"Sender {uid}",
        "from_address": f"sender{uid}@example.test",
        "date": datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=uid),
        "seen": True,
    }
    return MessageSummary.objects.create(folder=folder, uid=uid, **(values | fields))
