from django.urls import reverse

from accounts import twofactor
from accounts.models import AuthenticatorDevice, BackupCodeDevice, Identity, MailAccount
from tests.factories import MailAccountFactory, UserFactory
from tests.helpers import enrol_totp, sign_in

ADMIN = reverse("admin:index")


def test_a_verified_staff_user_reaches_the_admin(owner_client):
    assert owner_client.get(ADMIN).status_code == 200


def test_a_staff_user_without_the_second_factor_is_refused(client, owner):
    enrol_totp(owner)
    sign_in(client, owner, verified=False)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_the_admin_demands_a_second_factor_even_when_2fa_is_optional(client, owner, settings):
    settings.WEBMAIL_REQUIRE_2FA = False
    sign_in(client, owner, verified=False)
    assert client.get(reverse("webmail:home")).status_code == 200
    response = client.get(reverse("admin:accounts_user_changelist"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:setup"))


def test_an_anonymous_visitor_is_sent_to_our_login(client, db):
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))


def test_a_verified_non_staff_user_is_refused(teammate_client):
    response = teammate_client.get(ADMIN, follow=True)
    assert response.status_code == 403
    assert b"no access to the admin panel" in response.content


def test_the_admin_creates_a_mail_account_with_a_write_only_password(owner_client, teammate):
    response = owner_client.post(
        reverse("admin:accounts_mailaccount_add"),
        {
            "user": teammate.pk,
            "label": "Work",
            "imap_host": "imap.example.test",
            "imap_port": 993,
            "imap_security": "tls",
            "imap_username": "",
            "new_imap_password": "s3cret-imap-pass",
            "smtp_host": "smtp.example.test",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "smtp_username": "",
            "use_imap_password_for_smtp": "on",
            "new_smtp_password": "",
            "ca_certificates": "",
            "trusted_certificate_sha256": "",
            "identities-TOTAL_FORMS": "1",
            "identities-INITIAL_FORMS": "0",
            "identities-0-display_name": "Tom",
            "identities-0-address": "Tom@Example.test",
            "identities-0-is_default": "",
            "identities-0-signature": "",
            "connection_checks-TOTAL_FORMS": "0",
            "connection_checks-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    account = MailAccount.objects.get(user=teammate)
    assert "s3cret" not in account.imap_password
    assert account.smtp_credentials() == (teammate.email, "s3cret-imap-pass")
    identity = Identity.objects.get(account=account)
    assert identity.user == teammate and identity.is_default

    page = owner_client.get(reverse("admin:accounts_mailaccount_change", args=[account.pk]))
    assert b"s3cret" not in page.content
    assert account.imap_password.encode() not in page.content
    assert b"A password is stored" in page.content


def test_an_empty_password_field_keeps_the_stored_password(owner_client, db):
    account = MailAccountFactory(password="keep-me")
    response = owner_client.post(
        reverse("admin:accounts_mailaccount_change", args=[account.pk]),
        {
            "user": account.user.pk,
            "label": "Renamed",
            "imap_host": account.imap_host,
            "imap_port": account.imap_port,
            "imap_security": "tls",
            "new_imap_password": "",
            "smtp_host": account.smtp_host,
            "smtp_port": account.smtp_port,
            "smtp_security": "starttls",
            "use_imap_password_for_smtp": "on",
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
            "connection_checks-TOTAL_FORMS": "0",
            "connection_checks-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert account.label == "Renamed"
    assert account.get_secret("imap_password") == "keep-me"


def test_totp_keys_are_not_browsable_in_the_admin(owner_client):
    for path in ("/admin/otp_totp/totpdevice/", "/admin/accounts/authenticatordevice/", "/admin/accounts/backupcode/"):
        assert owner_client.get(path).status_code == 404, path


def test_the_admin_resets_a_users_second_factor(owner_client, db):
    user = UserFactory()
    enrol_totp(user)
    twofactor.new_backup_codes(user)
    response = owner_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert not BackupCodeDevice.objects.filter(user=user).exists()


def test_a_reset_user_must_enrol_again_at_next_request(client, owner_client, teammate):
    sign_in(client, teammate)
    twofactor.reset(teammate)
    response = client.get(reverse("webmail:home"))
    assert response["Location"].startswith(reverse("accounts:setup"))


def test_the_admin_can_create_a_user_who_signs_in_with_email(owner_client, db):
    response = owner_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new.person@example.test",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a long enough password",
            "password2": "a long enough password",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from accounts.models import User

    assert User.objects.get(email="new.person@example.test").check_password("a long enough password")
