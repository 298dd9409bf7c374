"""Signed, short-lived tokens for a message's inline images.

The sanitized body of a message is a sandboxed document with an opaque origin, so the browser
sends no SameSite session cookie with its image requests: each ``cid:`` image URL carries a
token for (owner, folder, UID) instead, signed with the site's secret key, valid for an hour.
"""

from __future__ import annotations

from django.core import signing

from webmail.mailbox.models import Folder

SALT = "webmail.views.cid"  # the salt tokens were first signed with; changing it voids them
MAX_AGE = 3600


def make_cid_token(folder: Folder, uid: int) -> str:
    value = signing.TimestampSigner(salt=SALT).sign(f"{folder.account.user_id}:{folder.pk}:{uid}")
    return value.split(":", 3)[3]  # timestamp:signature; the rest the view knows


def cid_token_ok(folder: Folder, uid: int, token: str) -> bool:
    value = f"{folder.account.user_id}:{folder.pk}:{uid}:{token}"
    try:
        signing.TimestampSigner(salt=SALT).unsign(value, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    return True
