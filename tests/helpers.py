"""Helpers every test package uses: a TOTP device for a user, its current code, a signed-in
test client, a mail account on the test servers."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from accounts.devices import AuthenticatorDevice, new_totp_key
from accounts.models import MailAccount, Security, User
from tests.factories import MailAccountFactory, UserFactory


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


def account_on_test_servers(mail_account, dovecot, pki, smtp_server=None, **user_fields) -> MailAccount:
    """A MailAccount (and its user, named by ``user_fields``) for a fresh Dovecot user, over
    implicit TLS, trusting the test CA; with ``smtp_server``, sending through it (STARTTLS)."""
    user = UserFactory(email=mail_account.address, **user_fields)
    smtp = (
        {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": Security.STARTTLS}
        if smtp_server is not None
        else {}
    )
    return MailAccountFactory(
        user=user,
        password=mail_account.password,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_security=Security.TLS,
        ca_certificates=pki.ca_pem,
        **smtp,
    )
