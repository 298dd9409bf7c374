"""Secrets at rest: AES-256-GCM with keys from WEBMAIL_SECRET_KEYS, never from SECRET_KEY.

A stored secret reads ``v1.<key id>.<base64 of nonce + ciphertext + tag>``. The key id is a
short hash of the key, so decryption picks the right key at once and rotation can tell which
values are still under an older key. The associated data names the table, row and field the
value belongs to: a ciphertext copied to another row or field fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = "v1"
NONCE_BYTES = 12


class SecretError(Exception):
    """A stored secret cannot be decrypted: wrong key set, tampering, or moved to another row."""


@dataclass(frozen=True)
class _Key:
    key_id: str
    cipher: AESGCM


@cache
def _keys(raw_keys: tuple[str, ...]) -> tuple[_Key, ...]:
    keys = []
    for raw in raw_keys:
        material = base64.b64decode(raw, validate=True)
        key_id = base64.urlsafe_b64encode(hashlib.sha256(material).digest()[:6]).decode()
        keys.append(_Key(key_id, AESGCM(material)))
    return tuple(keys)


def _configured_keys() -> tuple[_Key, ...]:
    return _keys(tuple(settings.WEBMAIL_SECRET_KEYS))


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt under the newest key, bound to ``context`` (e.g. ``accounts.mailaccount:<id>:imap_password``)."""
    key = _configured_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.cipher.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}.{key.key_id}.{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    key, blob = _parse(token)
    try:
        plaintext = key.cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise SecretError("stored secret failed authentication (tampered, or moved from another row)") from None
    return plaintext.decode("utf-8")


def is_current(token: str) -> bool:
    """True when ``token`` is already encrypted under the newest key."""
    return token.split(".", 2)[1:2] == [_configured_keys()[0].key_id]


def _parse(token: str) -> tuple[_Key, bytes]:
    try:
        version, key_id, payload = token.split(".", 2)
        blob = base64.b64decode(payload, validate=True)
    except ValueError:
        raise SecretError("stored secret is not in the expected format") from None
    if version != VERSION or len(blob) <= NONCE_BYTES:
        raise SecretError("stored secret is not in the expected format")
    for key in _configured_keys():
        if key.key_id == key_id:
            return key, blob
    raise SecretError("stored secret was encrypted with a key that is no longer in WEBMAIL_SECRET_KEYS")
