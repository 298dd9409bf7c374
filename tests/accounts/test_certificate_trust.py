"""A server certificate no CA vouches for: said in plain words for IMAP and SMTP alike, shown to
the admin (subject, names, validity, fingerprint), and pinned with one confirmed button."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.connection import check_account
from accounts.models import ConnectionCheck, MailAccount, Security
from tests.accounts.helpers import certificate_fingerprint
from tests.helpers import sign_in


@pytest.fixture
def untrusted(server_account):
    """The account no longer trusts the test CA: its servers' certificate is trusted by nobody."""
    server_account.ca_certificates = ""
    server_account.save()
    return server_account


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.TLS])
def test_an_untrusted_imap_certificate_is_reported_as_such(untrusted, dovecot, security):
    untrusted.imap_security = security
    untrusted.imap_port = dovecot.imap_port if security == Security.STARTTLS else dovecot.imaps_port
    check = check_account(untrusted, untrusted.user)
    assert check.imap_message.startswith("certificate not trusted ("), check.imap_message
    assert "bad file descriptor" not in check.imap_message
    assert check.imap_message == check.smtp_message, "in the same words as SMTP"


def test_the_check_records_the_certificate_each_untrusted_server_presented(untrusted, pki, smtp_server):
    check = check_account(untrusted, untrusted.user)
    seen = {certificate["service"]: certificate for certificate in check.untrusted_certificates}
    assert set(seen) == {"imap", "smtp"}
    for certificate in seen.values():
        assert certificate["sha256"] == certificate_fingerprint(pki)
        assert certificate["subject"] == "CN=localhost"
        assert certificate["names"] == ["localhost", "127.0.0.1", "::1"]
        assert certificate["not_before"] < certificate["not_after"]
    assert smtp_server.handler.auth_attempts == [], "looking at the certificate sends no password"


def test_a_trusted_server_records_no_certificate(server_account):
    check = check_account(server_account, server_account.user)
    assert check.ok and check.certificates == {}


@pytest.fixture
def admin_account(untrusted):
    """The untrusted account's user is an admin (staff, allowed to change mail accounts)."""
    user = untrusted.user
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="change_mailaccount"))
    return untrusted


def _test(client, account):
    response = client.post(reverse("accounts:test_connection", args=[account.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def _pin(client, account, sha256, service="imap", confirmed=True):
    data = {"service": service, "sha256": sha256, "next": reverse("accounts:settings")}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(reverse("accounts:pin_certificate", args=[account.pk]), data)


def test_an_admin_sees_the_certificate_pins_it_and_the_next_test_passes(client, admin_account, pki):
    sign_in(client, admin_account.user)
    page = _test(client, admin_account)
    expected = certificate_fingerprint(pki)
    assert expected in page
    assert "CN=localhost" in page and "localhost, 127.0.0.1, ::1" in page
    assert "Pin this certificate" in page and 'name="confirmed"' in page
    response = _pin(client, admin_account, expected)
    assert response.status_code == 302 and response.url == reverse("accounts:settings")
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == expected
    assert "IMAP: logged in" in _test(client, admin_account)
    assert ConnectionCheck.objects.first().ok


def test_the_settings_page_shows_the_last_tests_certificate_with_the_button(client, admin_account, pki):
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert certificate_fingerprint(pki) in page and "Pin this certificate" in page


def test_the_admin_change_page_shows_the_certificate_with_the_button(client, admin_account, pki):
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    page = client.get(reverse("admin:accounts_mailaccount_change", args=[admin_account.pk])).content.decode()
    assert certificate_fingerprint(pki) in page and "Pin this certificate" in page


def test_nothing_is_pinned_without_the_confirmation(client, admin_account, pki):
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    _pin(client, admin_account, certificate_fingerprint(pki), confirmed=False)
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == ""


def test_a_fingerprint_the_test_did_not_see_is_not_pinned(client, admin_account, untrusted_pki):
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    response = _pin(client, admin_account, certificate_fingerprint(untrusted_pki))
    assert response.status_code == 302
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == ""


def test_a_certificate_the_server_no_longer_presents_is_not_pinned(client, admin_account, pki, untrusted_pki):
    """What the last test recorded must still be what the server presents: here the recorded
    fingerprint is another certificate's, as if the server had changed since."""
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    check = ConnectionCheck.objects.first()
    other = certificate_fingerprint(untrusted_pki)
    check.certificates["imap"]["sha256"] = other
    check.save()
    _pin(client, admin_account, other)
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == ""


def test_a_user_who_may_not_edit_accounts_gets_no_button_and_cannot_pin(client, untrusted, pki):
    sign_in(client, untrusted.user)
    page = _test(client, untrusted)
    assert certificate_fingerprint(pki) in page, "the user sees what the server presented"
    assert "Pin this certificate" not in page
    response = _pin(client, untrusted, certificate_fingerprint(pki))
    assert response.status_code == 403
    assert MailAccount.objects.get(pk=untrusted.pk).trusted_certificate_sha256 == ""


def test_staff_without_the_change_permission_cannot_pin(client, untrusted, pki):
    untrusted.user.is_staff = True
    untrusted.user.save()
    sign_in(client, untrusted.user)
    _test(client, untrusted)
    assert _pin(client, untrusted, certificate_fingerprint(pki)).status_code == 403
    assert MailAccount.objects.get(pk=untrusted.pk).trusted_certificate_sha256 == ""


def test_pinning_needs_the_second_factor(client, admin_account, pki):
    sign_in(client, admin_account.user)
    _test(client, admin_account)
    client.logout()
    sign_in(client, admin_account.user, verified=False)
    response = _pin(client, admin_account, certificate_fingerprint(pki))
    assert response.status_code in (302, 403)
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == ""


def test_only_a_certificate_a_test_recorded_can_be_pinned(client, admin_account, pki):
    sign_in(client, admin_account.user)
    _pin(client, admin_account, certificate_fingerprint(pki))
    assert MailAccount.objects.get(pk=admin_account.pk).trusted_certificate_sha256 == ""
