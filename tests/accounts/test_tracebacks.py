"""No mail password in an error report: the debug page (WEBMAIL_DEBUG=1) shows every frame's
local variables, the libraries' frames too."""

import base64
import copy
import imaplib
import pickle

import aiosmtplib
import pytest
from django.test import Client
from django.urls import reverse

from accounts.crypto import Secret
from accounts.models import MailAccount
from tests.helpers import sign_in
from tests.servers.fixtures import free_port


def test_a_secret_shows_as_stars_and_reveals_only_on_request():
    secret = Secret("hunter2-password")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}" + repr((secret, [secret]))
    assert secret.reveal() == "hunter2-password"
    assert secret == "hunter2-password" and secret != "other" and secret == Secret("hunter2-password")
    assert bool(secret) and not Secret("")
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_decrypted_passwords_are_secrets(server_account, mail_account):
    account = MailAccount.objects.get(pk=server_account.pk)
    _login, password = account.imap_credentials()
    assert isinstance(password, Secret) and password.reveal() == mail_account.password
    assert isinstance(account.smtp_credentials()[1], Secret)


def test_testing_an_account_without_imap_username_when_imap_is_down_answers(client, server_account):
    """The SMTP check needs the login name, the user's email: it is read before the event loop
    runs (the database cannot be queried inside it), not left to an IMAP login that never came."""
    assert server_account.imap_username == ""
    MailAccount.objects.filter(pk=server_account.pk).update(imap_port=free_port())
    sign_in(client, server_account.user)
    url = reverse("accounts:test_connection", args=[server_account.pk])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"IMAP: connection refused" in response.content
    assert b"SMTP: authenticated to" in response.content


def _debug_page(client: Client, account, settings) -> bytes:
    settings.DEBUG = True
    sign_in(client, account.user)
    client.raise_request_exception = False
    response = client.post(reverse("accounts:test_connection", args=[account.pk]))
    assert response.status_code == 500
    assert b"RuntimeError" in response.content
    return response.content


def test_a_crash_inside_the_imap_login_shows_no_password_on_the_debug_page(
    client, server_account, mail_account, settings, monkeypatch
):
    real_send = imaplib.IMAP4.send

    def send(self, data):
        if b" LOGIN " in data:
            raise RuntimeError("a bug deep in the library")
        return real_send(self, data)

    monkeypatch.setattr(imaplib.IMAP4, "send", send)
    page = _debug_page(client, server_account, settings)
    assert b"in _command" in page, "imaplib's frames are on the page"
    assert mail_account.password.encode() not in page


def test_a_crash_inside_the_smtp_login_shows_no_password_on_the_debug_page(
    client, server_account, mail_account, settings, monkeypatch
):
    real_execute = aiosmtplib.SMTP.execute_command

    async def execute_command(self, *args, **kwargs):
        if args[0] == b"AUTH":
            raise RuntimeError("a bug deep in the library")
        return await real_execute(self, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "execute_command", execute_command)
    page = _debug_page(client, server_account, settings)
    assert b"in auth_plain" in page, "aiosmtplib's frames are on the page"
    assert mail_account.password.encode() not in page
    encoded = base64.b64encode(f"\0{mail_account.address}\0{mail_account.password}".encode())
    assert encoded not in page
