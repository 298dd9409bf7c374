"""Helpers every test package uses: a TOTP device for a user, its current code, a signed-in
test client."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from accounts.devices import AuthenticatorDevice, new_totp_key
from accounts.models import User


def enrol_totp(user: User) -> AuthenticatorDevice:
    device = AuthenticatorDevice.for_key(user, new_totp_key(), name="Authenticator app", confirmed=True)
    device.save()
    return device


def current_code(device: AuthenticatorDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def sign_in(client: Client, user: User, *, verified: bool = True) -> Client:
    """A session past the password step, and past the second factor unless verified=False."""
    client.force_login(user)
    if verified:
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first() or enrol_totp(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
