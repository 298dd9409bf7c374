"""The raw-message cache keeps a message for the reading pane's next requests, up to a size."""

from __future__ import annotations

from django.core.cache import cache

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import sync_account
from webmail.mailbox import store
from webmail.mailbox.models import Folder


def delivered(reader, dovecot, raw: bytes) -> tuple[Folder, int]:
    uid = dovecot.deliver(reader.user.email, raw)
    sync_account(reader, ["INBOX"])
    return Folder.objects.get(account=reader, name="INBOX"), uid


def test_a_message_within_the_bound_is_kept_a_larger_one_is_not(reader, dovecot, settings):
    small = make_message(1)
    large = make_message(2, extra="X-Padding: " + "p" * 4000 + "\r\n")
    settings.WEBMAIL_CACHE_MAX_ENTRY_BYTES = len(small) + 100
    folder, small_uid = delivered(reader, dovecot, small)
    folder, large_uid = delivered(reader, dovecot, large)

    assert store.load_raw(folder, small_uid).endswith(b"Body of message 1.\r\n")
    assert store.load_raw(folder, large_uid).endswith(b"Body of message 2.\r\n")

    assert cache.get(store._raw_key(folder, small_uid)) is not None
    assert cache.get(store._raw_key(folder, large_uid)) is None


def test_by_default_a_three_megabyte_message_is_not_kept(reader, dovecot):
    raw = make_message(3) + b"All work and no play makes a long message.\r\n" * 75_000
    folder, uid = delivered(reader, dovecot, raw)
    assert len(store.open_message(folder, uid, None)) == len(raw) > 3_000_000
    assert cache.get(store._raw_key(folder, uid)) is None
