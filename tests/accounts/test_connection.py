"""'Test connection' against a real Dovecot and a real aiosmtpd submission server."""

import socket
import ssl

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.connection import check_account
from accounts.models import ConnectionCheck, Security
from tests.factories import MailAccountFactory
from tests.helpers import sign_in
from tests.servers.fixtures import free_port
from webmail.protocol.mailservers import fingerprint


@pytest.fixture
def account(server_account):
    """A MailAccount row pointing at the test servers, trusting the test CA (see conftest)."""
    return server_account


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def server_fingerprint(pki) -> str:
    return fingerprint(ssl.PEM_cert_to_DER_cert(pki.cert_path.read_text()))


def test_the_right_password_passes_both_servers(account):
    check = check_account(account, account.user)
    assert check.imap_ok, check.imap_message
    assert check.smtp_ok, check.smtp_message
    assert check.imap_message.startswith("logged in to 127.0.0.1:")
    assert "TLSv1.3" in check.imap_message
    assert check.smtp_message.startswith("authenticated to 127.0.0.1:")


def test_imap_starttls_and_smtp_implicit_tls_work_too(account, dovecot, smtps_server, mail_account):
    smtps_server.add_user(mail_account.address, mail_account.password)
    account.imap_port, account.imap_security = dovecot.imap_port, Security.STARTTLS
    account.smtp_port, account.smtp_security = smtps_server.port, Security.TLS
    check = check_account(account, account.user)
    assert check.ok, (check.imap_message, check.smtp_message)


def test_a_wrong_password_is_reported_in_plain_words(account):
    account.set_secret("imap_password", "not the password")
    check = check_account(account, account.user)
    assert not check.imap_ok and not check.smtp_ok
    assert check.imap_message.startswith("authentication failed")
    assert check.smtp_message.startswith("authentication failed: the password was refused (535")
    assert "not the password" not in check.imap_message + check.smtp_message


def test_an_untrusted_certificate_is_refused_before_the_password_is_sent(account, smtp_server):
    account.ca_certificates = ""
    check = check_account(account, account.user)
    assert check.imap_message.startswith("certificate not trusted")
    assert check.smtp_message.startswith("certificate not trusted")
    assert smtp_server.handler.auth_attempts == []


def test_a_pinned_certificate_is_trusted_without_a_ca(account, pki):
    account.ca_certificates = ""
    account.trusted_certificate_sha256 = server_fingerprint(pki)
    check = check_account(account, account.user)
    assert check.ok, (check.imap_message, check.smtp_message)


def test_a_pin_for_another_certificate_is_refused_and_names_the_one_seen(account, pki, untrusted_pki, smtp_server):
    account.trusted_certificate_sha256 = server_fingerprint(untrusted_pki)
    check = check_account(account, account.user)
    assert not check.imap_ok and not check.smtp_ok
    assert server_fingerprint(pki) in check.imap_message
    assert smtp_server.handler.auth_attempts == [], "no password may reach a server that failed the pin"


def test_a_refused_connection_is_reported(account):
    account.imap_port = free_port()
    account.smtp_port = free_port()
    check = check_account(account, account.user)
    assert check.imap_message == "connection refused"
    assert check.smtp_message == "connection refused"


def test_a_silent_server_times_out_within_the_bound(account, silent_port, settings):
    settings.WEBMAIL_CONNECT_TIMEOUT = 1
    account.imap_port = account.smtp_port = silent_port
    check = check_account(account, account.user)
    assert check.imap_message == "timed out"
    assert check.smtp_message == "timed out"


def test_an_unencrypted_connection_is_only_allowed_to_loopback(db):
    account = MailAccountFactory(imap_host="mail.example.test", imap_security=Security.NONE)
    with pytest.raises(ValidationError, match="only allowed to a server on this machine"):
        account.full_clean()
    local = MailAccountFactory(imap_host="127.0.0.1", imap_security=Security.NONE)
    local.full_clean()


def test_the_settings_page_button_answers_with_the_result(client, account):
    sign_in(client, account.user)
    response = client.post(reverse("accounts:test_connection", args=[account.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"IMAP: logged in" in response.content
    assert b"SMTP: authenticated" in response.content
    page = client.get(reverse("accounts:settings"))
    assert b"IMAP: logged in" in page.content, "the last result is shown on the settings page"


def test_nobody_can_test_someone_elses_account(client, account, stranger):
    sign_in(client, stranger)
    response = client.post(reverse("accounts:test_connection", args=[account.pk]))
    assert response.status_code == 404
    assert not ConnectionCheck.objects.exists()


def test_testing_needs_post(client, account):
    sign_in(client, account.user)
    assert client.get(reverse("accounts:test_connection", args=[account.pk])).status_code == 405


def test_connection_tests_are_rate_limited(client, account, settings):
    settings.WEBMAIL_CONNECTION_TESTS_PER_HOUR = 2
    sign_in(client, account.user)
    url = reverse("accounts:test_connection", args=[account.pk])
    for _ in range(2):
        assert client.post(url, headers={"HX-Request": "true"}).status_code == 200
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 429
    assert b"Too many connection tests" in response.content
    assert ConnectionCheck.objects.count() == 2


def test_a_password_under_a_lost_key_is_reported_not_crashed(account, settings):
    import base64
    import os

    settings.WEBMAIL_SECRET_KEYS = [base64.b64encode(os.urandom(32)).decode()]
    check = check_account(account, account.user)
    assert "cannot be decrypted" in check.imap_message
