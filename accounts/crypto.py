"""Secrets at rest: AES-256-GCM with keys from WEBMAIL_SECRET_KEYS, never from SECRET_KEY.

A stored secret reads ``v1.<key id>.<base64 of nonce + ciphertext + tag>``. The key id is a
short hash of the key, so decryption picks the right key at once and rotation can tell which
values are still under an older key. The associated data names the table, row and field the
value belongs to: a ciphertext copied to another row or field fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

VERSION = "v1"
NONCE_BYTES = 12


class SecretError(Exception):
    """A stored secret cannot be decrypted: wrong key set, tampering, or moved to another row."""


class Secret:
    """A decrypted password. ``repr()`` and ``str()`` give stars, so it reads ``********`` in a
    traceback, a log line or a template; the text comes out only through ``reveal()``, called
    where a library needs it. Error reports also hide every variable of the frames called from
    one that holds a Secret (``accounts.tracebacks``). It cannot be pickled (into a task, a
    cache or a session)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other.encode("utf-8"))

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret is not pickled: it would leave the process in clear")


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


@sensitive_variables()
def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt under the newest key, bound to ``context`` (e.g. ``accounts.mailaccount:<id>:imap_password``)."""
    key = _configured_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.cipher.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}.{key.key_id}.{base64.b64encode(nonce + sealed).decode()}"


@sensitive_variables()
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
