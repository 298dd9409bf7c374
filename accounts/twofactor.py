"""The second factor: TOTP enrolment, verification with a reason for failure, backup codes.

django-otp stores the devices and does the arithmetic; this module adds what a login page needs
to tell people: was the code wrong, already used, or are they going too fast.
"""

from __future__ import annotations

import base64
import enum
import time
from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    REPLAYED = "replayed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    device: TOTPDevice | StaticDevice | None = None
    retry_at: datetime | None = None


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled, made on first call and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The key as people type it into an app: base32, in groups of four."""
    encoded = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    # Rendered here as SVG so no third party ever sees the secret.
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2, dark="#111827")


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
                return Verification(Outcome.OK, device)
            if isinstance(device, TOTPDevice) and _was_valid_before(device, token):
                replayed = True
    if replayed:
        return Verification(Outcome.REPLAYED)
    if throttled_until:
        return Verification(Outcome.THROTTLED, retry_at=min(throttled_until))
    return Verification(Outcome.WRONG)


def _could_match(device, token: str) -> bool:
    # A backup code typed in must not count as a failed authenticator code, and the other way
    # round, or one kind of code would throttle the other.
    looks_like_totp = token.isdigit() and len(token) == getattr(device, "digits", 6)
    return looks_like_totp if isinstance(device, TOTPDevice) else not looks_like_totp


def _was_valid_before(device: TOTPDevice, token: str) -> bool:
    """True when ``token`` is a current code that was already used (so it failed as a replay)."""
    if not token.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp.verify(int(token), device.tolerance)


def confirm_enrolment(user: User, device: TOTPDevice, token: str) -> Verification:
    result = verify(user, token, devices=[device])
    if result.outcome is Outcome.OK:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    return result


def new_backup_codes(user: User) -> list[str]:
    """Replace the user's backup codes; the plain codes are returned once, to be shown once."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME)
        device.confirmed = True
        device.save()
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.WEBMAIL_BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def reset(user: User) -> None:
    """Remove every second factor; the user enrols again at next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
