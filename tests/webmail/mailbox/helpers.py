"""Helpers of the mailbox tests: filling Dovecot and reading it back behind the app's back."""

from __future__ import annotations

import re

from webmail.mailbox.models import Folder


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
