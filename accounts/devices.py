"""The second-factor devices, as django-otp device models whose secrets are sealed at rest.

django-otp's own TOTP and static devices keep the TOTP key and the backup codes in plain text,
so anyone with a copy of the database could make codes for every user. These models keep both
encrypted with ``accounts.crypto`` (AES-256-GCM under WEBMAIL_SECRET_KEYS, bound to the row and
field like the mail passwords, re-encrypted by ``rotate_secrets``). The arithmetic is
django-otp's (``django_otp.oath.TOTP``); the rest of django-otp (middleware, ``login``,
``devices_for_user``, throttling) sees ordinary devices.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
import uuid
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from accounts import crypto

KEY_BYTES = 20  # 160 bits, as RFC 4226 recommends and authenticator apps expect
BACKUP_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read off paper


def new_totp_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def totp_for(key: bytes, step: int = 30, t0: int = 0, digits: int = 6, drift: int = 0) -> TOTP:
    totp = TOTP(key, step, t0, digits, drift)
    totp.time = time.time()
    return totp


class SealedSecretMixin:
    """Encrypt and decrypt secret fields, bound to this row by a UUID known before the INSERT:
    the primary key where it is one, else the ``uid`` field (django-otp wants integer ids for
    its devices, and an auto id is known only after the row is written)."""

    ROW_ID_FIELD = "pk"

    def _secret_context(self, field: str) -> str:
        return f"{self._meta.label_lower}:{getattr(self, self.ROW_ID_FIELD)}:{field}"

    def _seal(self, field: str, plaintext: str) -> None:
        setattr(self, field, crypto.encrypt(plaintext, context=self._secret_context(field)))

    def _unseal(self, field: str) -> str:
        return crypto.decrypt(getattr(self, field), context=self._secret_context(field))

    def rotate_secrets(self) -> list[str]:
        """Re-encrypt the sealed fields not under the newest key; returns those changed (unsaved)."""
        changed = []
        for field in self.SEALED_FIELDS:
            if getattr(self, field) and not crypto.is_current(getattr(self, field)):
                self._seal(field, self._unseal(field))
                changed.append(field)
        return changed


class AuthenticatorDevice(SealedSecretMixin, TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app (RFC 6238), its key sealed in ``sealed_key``."""

    SEALED_FIELDS = ("sealed_key",)
    ROW_ID_FIELD = "uid"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sealed_key = models.TextField(editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text=_("The time step of the last code used."))

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @classmethod
    def for_key(cls, user, key: bytes, **fields) -> AuthenticatorDevice:
        device = cls(user=user, **fields)
        device.set_key(key)
        return device

    def set_key(self, key: bytes) -> None:
        self._seal("sealed_key", key.hex())

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self._unseal("sealed_key"))

    def totp(self) -> TOTP:
        return totp_for(self.bin_key, self.step, self.t0, self.digits, self.drift)

    def verify_token(self, token) -> bool:
        """As django-otp's TOTPDevice: a code is good once, within ``tolerance`` steps."""
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            verified, totp = False, None
        else:
            totp = self.totp()
            verified = totp.verify(value, self.tolerance, self.last_t + 1)
        if not verified:
            self.throttle_increment(commit=True)
            return False
        self.last_t = totp.t()
        if getattr(settings, "OTP_TOTP_SYNC", True):
            self.drift = totp.drift
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def was_used_before(self, token: str) -> bool:
        """True when ``token`` is a current code that was already used (so it failed as a replay)."""
        return token.isdigit() and self.totp().verify(int(token), self.tolerance)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        return config_url(self.user.get_username(), self.bin_key, self.digits, self.step)


def config_url(label: str, key: bytes, digits: int = 6, step: int = 30) -> str:
    """The otpauth:// URL authenticator apps scan (Key Uri Format, as django-otp makes it)."""
    params = {"secret": base64.b32encode(key).decode(), "algorithm": "SHA1", "digits": digits, "period": step}
    query = urlencode(params)
    issuer = (getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
    if issuer:
        label = f"{issuer}:{label}"
        query += f"&issuer={quote(issuer)}"
    return f"otpauth://totp/{quote(label)}?{query}"


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's sheet of single-use backup codes; the codes are ``BackupCode`` rows."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def verify_token(self, token) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        typed = str(token)
        with transaction.atomic():
            # Every code is compared, so how long this takes says nothing about which matched.
            match = None
            for code in BackupCode.objects.select_for_update().filter(device=self):
                if hmac.compare_digest(code.plaintext().encode(), typed.encode()) and match is None:
                    match = code
            if match is not None:
                match.delete()
        if match is None:
            self.throttle_increment(commit=True)
            return False
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)


class BackupCode(SealedSecretMixin, models.Model):
    SEALED_FIELDS = ("sealed_code",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    sealed_code = models.TextField(editable=False)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return f"backup code {self.pk}"  # never the code itself

    @classmethod
    def for_code(cls, device: BackupCodeDevice, code: str) -> BackupCode:
        row = cls(device=device)
        row._seal("sealed_code", code)
        return row

    def plaintext(self) -> str:
        return self._unseal("sealed_code")


def random_backup_code(length: int = 10) -> str:
    """Ten characters from a 32-letter alphabet: 50 bits, typed rarely and only once each."""
    return "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(length))
