"""The Drafts folder: one copy of each draft, replaced as the draft changes.

Each copy we write carries a marker header naming its draft. Replacing a draft APPENDs the new
copy and then removes every other message with the same marker (and any UID the caller names,
such as a draft another client wrote that we opened, unless the folder's UIDVALIDITY changed
since), so whatever happened before (two tabs, a worker that died between APPEND and recording
the UID, two workers at once: both keep the newest), another client sees exactly one copy.
"""

from __future__ import annotations

import re

import imapclient
from imapclient import IMAPClient
from imapclient.imapclient import DRAFTS

from webmail.protocol.imap import check_text, check_uids, delete_permanently, translate_errors

MARKER_HEADER = "X-Webmail-Draft"
_MARKER = re.compile(r"[0-9a-f-]{36}")
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]", re.IGNORECASE)


def drafts_folder(client: IMAPClient) -> str:
    """The folder the server marks \\Drafts, else one named Drafts, created if missing."""
    with translate_errors():
        name = client.find_special_folder(DRAFTS)
        if name:
            return str(name)
        if not client.folder_exists("Drafts"):
            client.create_folder("Drafts")
    return "Drafts"


def _marked(client: IMAPClient, folder: str, marker: str) -> tuple[list[int], int | None]:
    """The UIDs of the draft ``marker``'s copies in ``folder``, and the folder's UIDVALIDITY."""
    if not _MARKER.fullmatch(marker):
        raise ValueError("a draft marker is a UUID")
    selected = client.select_folder(check_text(folder, "folder name"), readonly=False)
    validity = selected.get(b"UIDVALIDITY")
    uids = [int(uid) for uid in client.search(["HEADER", MARKER_HEADER, marker])]
    return uids, int(validity) if validity is not None else None


def _still_valid(also_remove: list[int], known: int | None, validity: int | None) -> list[int]:
    # UIDs read under another UIDVALIDITY (the folder was made again) name other messages now.
    return check_uids(also_remove) if known is None or known == validity else []


def replace_draft(
    client: IMAPClient, folder: str, raw: bytes, marker: str, also_remove: list[int], known_validity: int | None
) -> tuple[int | None, int | None]:
    """APPEND ``raw`` (\\Draft \\Seen) and remove every other copy of the draft ``marker`` in
    ``folder``, and the UIDs ``also_remove`` (read under ``known_validity``). Returns the copy
    kept, the newest one (so that two writers at once agree on it), and the folder's
    UIDVALIDITY."""
    with translate_errors():
        reply = client.append(check_text(folder, "folder name"), raw, flags=[imapclient.DRAFT, imapclient.SEEN])
        found = _APPENDUID.search(reply if isinstance(reply, bytes) else str(reply).encode())
        appended = int(found.group(1)) if found else None
        copies, validity = _marked(client, folder, marker)
    kept = max([*copies, *([appended] if appended else [])], default=None)
    stale = sorted({*copies, *_still_valid(also_remove, known_validity, validity)} - {kept})
    delete_permanently(client, folder, stale)
    return kept, validity


def remove_draft(
    client: IMAPClient, folder: str, marker: str, also_remove: list[int], known_validity: int | None
) -> None:
    """Remove every copy of the draft ``marker`` from ``folder``, and the UIDs ``also_remove``."""
    with translate_errors():
        if not client.folder_exists(check_text(folder, "folder name")):
            return
        copies, validity = _marked(client, folder, marker)
    delete_permanently(client, folder, sorted({*copies, *_still_valid(also_remove, known_validity, validity)}))
