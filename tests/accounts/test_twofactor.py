import re

from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from tests.conftest import current_code, enrol_totp, sign_in

SETUP = reverse("accounts:setup")
VERIFY = reverse("accounts:verify")
HOME = reverse("webmail:home")


def test_a_password_only_session_is_sent_to_enrolment(client, teammate):
    sign_in(client, teammate, verified=False)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_enrolment_shows_a_local_qr_code_and_the_key(client, teammate):
    sign_in(client, teammate, verified=False)
    response = client.get(SETUP)
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=teammate, confirmed=False)
    assert twofactor.secret_text(device).encode() in response.content
    assert b'src="data:image/svg+xml' in response.content
    # The same pending device is shown again on reload, so a scanned code stays valid.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=teammate).count() == 1


def test_enrolment_confirms_with_a_code_and_shows_backup_codes_once(client, teammate):
    sign_in(client, teammate, verified=False)
    client.get(SETUP)
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=teammate)
    response = client.post(SETUP, {"token": current_code(device), "next": HOME})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(rb"<li><code>([a-z0-9]+)</code></li>", response.content)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=teammate).count() == 10
    assert client.session.session_key != before, "the session key must change after the second factor"
    assert client.get(HOME).status_code == 200


def test_a_wrong_enrolment_code_is_refused(client, teammate):
    sign_in(client, teammate, verified=False)
    client.get(SETUP)
    response = client.post(SETUP, {"token": "000000"})
    assert response.status_code == 400
    assert b"not right" in response.content
    assert not TOTPDevice.objects.filter(user=teammate, confirmed=True).exists()


def test_verification_accepts_the_current_code(client, teammate):
    device = enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    response = client.get(HOME)
    assert response["Location"].startswith(VERIFY)
    response = client.post(VERIFY, {"token": current_code(device), "next": HOME})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_a_wrong_code_gets_400_and_a_clear_message(client, teammate):
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    response = client.post(VERIFY, {"token": "123456"})
    assert response.status_code == 400
    assert b"not right" in response.content
    assert client.get(HOME).status_code == 302


def test_a_replayed_code_is_refused_with_its_own_message(client, teammate):
    device = enrol_totp(teammate)
    code = current_code(device)
    sign_in(client, teammate, verified=False)
    assert client.post(VERIFY, {"token": code}).status_code == 302

    other = client.__class__()
    sign_in(other, teammate, verified=False)
    device.refresh_from_db()
    device.throttle_reset()
    response = other.post(VERIFY, {"token": code})
    assert response.status_code == 400
    assert b"already been used" in response.content


def test_quick_wrong_codes_are_throttled_with_429(client, teammate):
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    client.post(VERIFY, {"token": "111111"})
    client.post(VERIFY, {"token": "222222"})
    response = client.post(VERIFY, {"token": "333333"})
    assert response.status_code == 429
    assert b"Try again in" in response.content


def test_a_backup_code_works_once(client, teammate):
    enrol_totp(teammate)
    code = twofactor.new_backup_codes(teammate)[0]
    sign_in(client, teammate, verified=False)
    response = client.post(VERIFY, {"token": code.upper()}, follow=True)
    assert response.status_code == 200
    assert b"9 backup codes are left" in response.content

    other = client.__class__()
    sign_in(other, teammate, verified=False)
    assert other.post(VERIFY, {"token": code}).status_code == 400


def test_a_password_only_session_cannot_replace_an_existing_factor(client, teammate):
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=teammate).count() == 1


def test_a_verified_user_can_replace_the_authenticator(teammate_client, teammate):
    old = TOTPDevice.objects.get(user=teammate, confirmed=True)
    teammate_client.get(SETUP)
    new = TOTPDevice.objects.get(user=teammate, confirmed=False)
    response = teammate_client.post(SETUP, {"token": current_code(new)})
    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=teammate)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_2fa_can_be_made_optional(client, teammate, settings):
    settings.WEBMAIL_REQUIRE_2FA = False
    sign_in(client, teammate, verified=False)
    assert client.get(HOME).status_code == 200


def test_optional_2fa_still_applies_to_users_who_enrolled(client, teammate, settings):
    settings.WEBMAIL_REQUIRE_2FA = False
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_new_backup_codes_replace_the_old_ones(teammate_client, teammate):
    old = set(twofactor.new_backup_codes(teammate))
    response = teammate_client.post(reverse("accounts:backup_codes"))
    new = {code.decode() for code in re.findall(rb"<li><code>([a-z0-9]+)</code></li>", response.content)}
    assert len(new) == 10 and not old & new
    assert set(StaticToken.objects.filter(device__user=teammate).values_list("token", flat=True)) == new


def test_htmx_requests_get_a_client_redirect(client, teammate):
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(VERIFY)
