import base64
import re

from django.urls import reverse
from django_otp.oath import totp

from accounts import twofactor
from accounts.models import AuthenticatorDevice, BackupCode
from tests.helpers import current_code, enrol_totp, sign_in

SETUP = reverse("accounts:setup")
VERIFY = reverse("accounts:verify")
HOME = reverse("webmail:home")
BACKUP_CODES = reverse("accounts:backup_codes")


def shown_key(response) -> bytes:
    """The enrolment key as the setup page shows it to be typed into an app."""
    text = re.search(rb'<code id="totp-secret">([A-Z2-7 ]+)</code>', response.content).group(1).decode()
    encoded = text.replace(" ", "")
    return base64.b32decode(encoded + "=" * (-len(encoded) % 8))


def code_for(key: bytes) -> str:
    return f"{totp(key):06d}"


def shown_codes(response) -> list[str]:
    return [code.decode() for code in re.findall(rb"<li><code>([a-z0-9]+)</code></li>", response.content)]


def test_a_password_only_session_is_sent_to_enrolment(client, teammate):
    sign_in(client, teammate, verified=False)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_enrolment_shows_a_local_qr_code_and_the_key(client, teammate):
    sign_in(client, teammate, verified=False)
    response = client.get(SETUP)
    assert response.status_code == 200
    assert len(shown_key(response)) == 20
    assert b'src="data:image/svg+xml' in response.content
    # The same pending key is shown again on reload, so a scanned code stays valid; nothing is
    # stored for it but the sealed key in this session.
    assert shown_key(client.get(SETUP)) == shown_key(response)
    assert not AuthenticatorDevice.objects.filter(user=teammate).exists()


def test_each_session_enrols_with_a_key_of_its_own(client, teammate):
    """Someone holding only the password who opens the setup page must not learn the key the
    real user will confirm."""
    sign_in(client, teammate, verified=False)
    attacker = client.__class__()
    sign_in(attacker, teammate, verified=False)
    attackers_key = shown_key(attacker.get(SETUP))
    users_key = shown_key(client.get(SETUP))
    assert attackers_key != users_key
    # A code for a key that another session was shown does not enrol this one.
    assert client.post(SETUP, {"token": code_for(attackers_key)}).status_code == 400
    assert client.post(SETUP, {"token": code_for(users_key)}).status_code == 200
    device = AuthenticatorDevice.objects.get(user=teammate)
    assert device.bin_key == users_key
    # And the attacker's still-open setup page cannot replace it: it is now a replacement.
    assert attacker.post(SETUP, {"token": code_for(attackers_key)}).status_code == 302
    assert AuthenticatorDevice.objects.get(user=teammate).bin_key == users_key


def test_the_session_does_not_hold_the_pending_key_in_plain_text(client, teammate):
    from django.contrib.sessions.models import Session

    sign_in(client, teammate, verified=False)
    key = shown_key(client.get(SETUP))
    stored = Session.objects.get(session_key=client.session.session_key).session_data
    decoded = client.session.get(twofactor.SETUP_SESSION_KEY)
    assert key.hex() not in stored and key.hex() not in str(decoded)


def test_enrolment_confirms_with_a_code_and_shows_backup_codes_once(client, teammate):
    sign_in(client, teammate, verified=False)
    key = shown_key(client.get(SETUP))
    before = client.session.session_key
    response = client.post(SETUP, {"token": code_for(key), "next": HOME})
    assert response.status_code == 200
    assert AuthenticatorDevice.objects.get(user=teammate).confirmed
    assert len(shown_codes(response)) == 10
    assert BackupCode.objects.filter(device__user=teammate).count() == 10
    assert client.session.session_key != before, "the session key must change after the second factor"
    assert client.get(HOME).status_code == 200


def test_a_wrong_enrolment_code_is_refused(client, teammate):
    sign_in(client, teammate, verified=False)
    client.get(SETUP)
    response = client.post(SETUP, {"token": "000000"})
    assert response.status_code == 400
    assert b"not right" in response.content
    assert not AuthenticatorDevice.objects.filter(user=teammate).exists()


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
    assert AuthenticatorDevice.objects.filter(user=teammate).count() == 1


def test_a_verified_user_can_replace_the_authenticator_with_a_current_code(teammate_client, teammate):
    old = AuthenticatorDevice.objects.get(user=teammate, confirmed=True)
    new_key = shown_key(teammate_client.get(SETUP))
    response = teammate_client.post(SETUP, {"current": current_code(old), "token": code_for(new_key)})
    assert response.status_code == 200
    [device] = AuthenticatorDevice.objects.filter(user=teammate)
    assert device.pk != old.pk and device.bin_key == new_key


def test_replacing_the_authenticator_needs_a_current_code(teammate_client, teammate):
    """A stolen session must not be able to make itself permanent with an app of its own."""
    old = AuthenticatorDevice.objects.get(user=teammate, confirmed=True)
    new_key = shown_key(teammate_client.get(SETUP))
    for current in ("", "000000", "notacode99"):
        response = teammate_client.post(SETUP, {"current": current, "token": code_for(new_key)})
        assert response.status_code in (400, 429), current
        assert list(AuthenticatorDevice.objects.filter(user=teammate)) == [old]


def test_a_backup_code_also_confirms_replacing_the_authenticator(teammate_client, teammate):
    code = twofactor.new_backup_codes(teammate)[0]
    new_key = shown_key(teammate_client.get(SETUP))
    response = teammate_client.post(SETUP, {"current": code, "token": code_for(new_key)})
    assert response.status_code == 200
    assert AuthenticatorDevice.objects.get(user=teammate).bin_key == new_key


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
    device = AuthenticatorDevice.objects.get(user=teammate)
    assert teammate_client.get(BACKUP_CODES).status_code == 200
    response = teammate_client.post(BACKUP_CODES, {"current": current_code(device)})
    new = set(shown_codes(response))
    assert len(new) == 10 and not old & new
    assert {code.plaintext() for code in BackupCode.objects.filter(device__user=teammate)} == new


def test_new_backup_codes_need_a_current_code(teammate_client, teammate):
    old = set(twofactor.new_backup_codes(teammate))
    for current in ("", "123456", "wrongcode1"):
        response = teammate_client.post(BACKUP_CODES, {"current": current})
        assert response.status_code in (400, 429), current
        assert not shown_codes(response)
    assert {code.plaintext() for code in BackupCode.objects.filter(device__user=teammate)} == old


def test_htmx_requests_get_a_client_redirect(client, teammate):
    enrol_totp(teammate)
    sign_in(client, teammate, verified=False)
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(VERIFY)
