"""The second factor: TOTP enrolment, verification with a reason for failure, backup codes.

django-otp stores the devices and does the arithmetic; this module adds what a login page needs
to tell people: was the code wrong, already used, or are they going too fast.
"""

from __future__ import annotations

import base64
import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django_otp import devices_for_user

from accounts import crypto
from accounts.devices import (
    AuthenticatorDevice,
    BackupCode,
    BackupCodeDevice,
    config_url,
    new_totp_key,
    random_backup_code,
    totp_for,
)
from accounts.models import User

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
SETUP_SESSION_KEY = "accounts_totp_setup"


class CodeResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    REPLAYED = "replayed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Verification:
    outcome: CodeResult
    device: AuthenticatorDevice | BackupCodeDevice | None = None
    retry_at: datetime | None = None


def has_second_factor(user: User) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class PendingKey:
    """An authenticator key being enrolled: it lives only in the session that asked for it."""

    key: bytes
    label: str

    @property
    def config_url(self) -> str:
        return config_url(self.label, self.key)


def pending_key(session: SessionBase, user: User) -> PendingKey:
    """This session's enrolment key, made on first call and kept (sealed) until it is confirmed.

    Each session gets its own: someone who knows only the password and opens the setup page
    learns a key nobody will ever confirm, not the one the real user scans.
    """
    stored = session.get(SETUP_SESSION_KEY)
    if stored and stored.get("user") == str(user.pk):
        try:
            key = bytes.fromhex(crypto.decrypt(stored["key"], context=_setup_context(user, stored["nonce"])))
            return PendingKey(key, user.get_username())
        except (crypto.SecretError, KeyError, ValueError):
            pass  # sealed under a key no longer configured, or tampered with: start again
    key, nonce = new_totp_key(), secrets.token_hex(16)
    session[SETUP_SESSION_KEY] = {
        "user": str(user.pk),
        "nonce": nonce,
        "key": crypto.encrypt(key.hex(), context=_setup_context(user, nonce)),
    }
    return PendingKey(key, user.get_username())


def _setup_context(user: User, nonce: str) -> str:
    return f"accounts.totp-setup:{user.pk}:{nonce}"


def secret_text(pending: PendingKey) -> str:
    """The key as people type it into an app: base32, in groups of four."""
    encoded = base64.b32encode(pending.key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def qr_code_data_uri(pending: PendingKey) -> str:
    # Rendered here as SVG so no third party ever sees the secret.
    return segno.make(pending.config_url, error="m").svg_data_uri(scale=5, border=2, dark="#111827")


def _normalize(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def verify(user: User, token: str, *, devices=None) -> Verification:
    """Check ``token`` against the user's confirmed devices (or the ``devices`` given)."""
    token = _normalize(token)
    candidates = [
        device
        for device in (devices if devices is not None else devices_for_user(user, confirmed=True))
        if _could_match(device, token)
    ]
    throttled_until: list[datetime] = []
    replayed = False
    for candidate in candidates:
        # Lock the row so that two requests racing with one code cannot both succeed.
        with transaction.atomic():
            device = type(candidate).objects.select_for_update().get(pk=candidate.pk)
            allowed, info = device.verify_is_allowed()
            if not allowed:
                if info and info.get("locked_until"):
                    throttled_until.append(info["locked_until"])
                continue
            if device.verify_token(token):
                return Verification(CodeResult.OK, device)
            if isinstance(device, AuthenticatorDevice) and device.was_used_before(token):
                replayed = True
    if replayed:
        return Verification(CodeResult.REPLAYED)
    if throttled_until:
        return Verification(CodeResult.THROTTLED, retry_at=min(throttled_until))
    return Verification(CodeResult.WRONG)


def _could_match(device, token: str) -> bool:
    # A backup code typed in must not count as a failed authenticator code, and the other way
    # round, or one kind of code would throttle the other.
    looks_like_totp = token.isdigit() and len(token) == getattr(device, "digits", 6)
    return looks_like_totp if isinstance(device, AuthenticatorDevice) else not looks_like_totp


def confirm_enrolment(session: SessionBase, user: User, token: str) -> Verification:
    """Make this session's pending key the user's authenticator if ``token`` is its current code.

    Replacing an authenticator is allowed only to a session that passed the second factor; the
    view asks for a current code as well (see ``verify``)."""
    pending = pending_key(session, user)
    totp = _matching_totp(pending, token)
    if totp is None:
        return Verification(CodeResult.WRONG)
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user).delete()
        # The code just typed counts as used: it cannot also pass the next sign-in.
        device = AuthenticatorDevice.for_key(
            user, pending.key, name=TOTP_DEVICE_NAME, confirmed=True, last_t=totp.t(), drift=totp.drift
        )
        device.save()
    session.pop(SETUP_SESSION_KEY, None)
    return Verification(CodeResult.OK, device)


def is_pending_code(pending: PendingKey, token: str) -> bool:
    return _matching_totp(pending, token) is not None


def _matching_totp(pending: PendingKey, token: str):
    token = _normalize(token)
    totp = totp_for(pending.key)
    return totp if token.isdigit() and totp.verify(int(token), tolerance=1) else None


def new_backup_codes(user: User) -> list[str]:
    """Replace the user's backup codes; the plain codes are returned once, to be shown once."""
    with transaction.atomic():
        device, _ = BackupCodeDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME)
        device.confirmed = True
        device.save()
        device.codes.all().delete()
        codes = [random_backup_code() for _ in range(settings.WEBMAIL_BACKUP_CODE_COUNT)]
        BackupCode.objects.bulk_create(BackupCode.for_code(device, code) for code in codes)
    return codes


def backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()


def reset(user: User) -> None:
    """Remove every second factor; the user enrols again at next login."""
    AuthenticatorDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
