"""A message read in slices (``BODY.PEEK[]<start.length>``): its source shown from the top
without fetching the rest, and a download streamed without holding the whole message."""

from __future__ import annotations

from imapclient import IMAPClient

from webmail.protocol.imap import check_text, check_uids, translate_errors


def open_message(client: IMAPClient, folder_name: str, uid: int) -> int | None:
    """SELECT (read-only) the message's folder; the message's size in octets, or None when it
    is not (or no longer) there."""
    (uid,) = check_uids([uid])
    check_text(folder_name, "folder name")
    with translate_errors():
        client.select_folder(folder_name, readonly=True)
        data = client.fetch([uid], [b"RFC822.SIZE"]).get(uid)
    return int(data[b"RFC822.SIZE"]) if data and b"RFC822.SIZE" in data else None


def read_slice(client: IMAPClient, uid: int, start: int, length: int) -> bytes:
    """Up to ``length`` octets of the message from ``start``, in the folder ``open_message``
    selected; sets no flag. Empty past the end."""
    (uid,) = check_uids([uid])
    if start < 0 or length < 1:
        raise ValueError("a slice needs a start >= 0 and a length >= 1")
    with translate_errors():
        data = client.fetch([uid], [f"BODY.PEEK[]<{start}.{length}>".encode()]).get(uid) or {}
    # The server answers BODY[]<start>; imapclient keeps the origin in the key.
    return next((value for key, value in data.items() if key.startswith(b"BODY[]")), None) or b""
