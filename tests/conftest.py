"""The fixed cast of every test: an owner, a teammate and a stranger, plus sign-in helpers."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture
def owner(db) -> User:
    return UserFactory(email="owner@example.test", full_name="Olivia Owner", is_staff=True, is_superuser=True)


@pytest.fixture
def teammate(db) -> User:
    return UserFactory(email="teammate@example.test", full_name="Tom Teammate")


@pytest.fixture
def stranger(db) -> User:
    return UserFactory(email="stranger@example.test", full_name="Sam Stranger")


def enrol_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def sign_in(client: Client, user: User, *, verified: bool = True) -> Client:
    """A session past the password step, and past the second factor unless verified=False."""
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrol_totp(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def owner_client(client, owner) -> Client:
    return sign_in(client, owner)


@pytest.fixture
def teammate_client(client, teammate) -> Client:
    return sign_in(client, teammate)


__all__ = ["PASSWORD", "current_code", "enrol_totp", "sign_in"]
