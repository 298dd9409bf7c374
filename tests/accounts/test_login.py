from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from tests.helpers import enrol_totp

LOGIN = reverse("accounts:login")


def post_login(client, email, password, next_url=""):
    return client.post(LOGIN, {"username": email, "password": password, "next": next_url})


def test_the_login_page_renders(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_an_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("webmail:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_wrong_password_gets_400_and_a_clear_message(client, teammate):
    response = post_login(client, teammate.email, "wrong password")
    assert response.status_code == 400
    assert b"do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_the_email_address_is_case_insensitive(client, teammate):
    enrol_totp(teammate)
    response = post_login(client, teammate.email.upper(), PASSWORD)
    assert response.status_code == 302


def test_a_disabled_user_cannot_sign_in(client, db):
    user = UserFactory(is_active=False)
    response = post_login(client, user.email, PASSWORD)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_the_password_step_leads_to_enrolment_when_there_is_no_second_factor(client, teammate):
    response = post_login(client, teammate.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:setup"))


def test_the_password_step_leads_to_verification_when_there_is_a_second_factor(client, teammate):
    enrol_totp(teammate)
    response = post_login(client, teammate.email, PASSWORD, next_url="/accounts/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert "settings" in response["Location"]


def test_an_offsite_next_is_ignored(client, teammate):
    enrol_totp(teammate)
    response = post_login(client, teammate.email, PASSWORD, next_url="https://evil.example/")
    assert "evil.example" not in response["Location"]


def test_the_password_step_rotates_the_session_key(client, teammate):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    post_login(client, teammate.email, PASSWORD)
    assert client.session.session_key != before


def test_repeated_wrong_passwords_lock_out_with_429(client, teammate, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, teammate.email, "wrong password")
    response = post_login(client, teammate.email, PASSWORD)
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off(client, teammate, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, teammate.email, "wrong password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    response = post_login(client, teammate.email, PASSWORD)
    assert response.status_code == 302


def test_the_lockout_is_per_username_not_for_everyone(client, teammate, stranger, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, teammate.email, "wrong password")
    response = post_login(client, stranger.email, PASSWORD)
    assert response.status_code == 302


@pytest.mark.parametrize(
    "spellings",
    [
        ["Teammate@example.test", "tEAMMATE@example.test", "teammate@EXAMPLE.TEST", "TEAMMATE@Example.Test"],
        ["  teammate@example.test", "teammate@example.test  ", " TeamMate@example.test ", "\tteammate@example.test"],
    ],
)
def test_the_lockout_counts_every_spelling_of_an_address_as_one(client, teammate, settings, spellings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, spellings[attempt % len(spellings)], "wrong password")
    for spelling in [teammate.email, *spellings]:
        response = post_login(client, spelling, PASSWORD)
        assert response.status_code == 429, spelling
        assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.count() == 1


def test_a_locked_spelling_cannot_be_dodged_with_another_for_an_unknown_address(client, db, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "Nobody@Example.test", "wrong password")
    assert post_login(client, "nobody@example.TEST ", "wrong password").status_code == 429


def test_logout_needs_post(owner_client):
    assert owner_client.get(reverse("accounts:logout")).status_code == 405
    response = owner_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in owner_client.session


def test_an_idle_session_is_refreshed_at_most_once_a_minute(owner_client):
    owner_client.get(reverse("accounts:settings"))
    seen = owner_client.session["_seen"]
    owner_client.get(reverse("accounts:settings"))
    assert owner_client.session["_seen"] == seen


@pytest.mark.parametrize("path", ["/", "/accounts/settings/", "/accounts/login/"])
def test_every_page_carries_a_strict_content_security_policy(client, owner, path):
    from tests.helpers import sign_in

    sign_in(client, owner)
    response = client.get(path, follow=True)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_password_change_keeps_the_session(teammate_client, teammate):
    response = teammate_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new pass",
            "new_password2": "a much longer new pass",
        },
    )
    assert response.status_code == 302
    teammate.refresh_from_db()
    assert teammate.check_password("a much longer new pass")
    assert teammate_client.get(reverse("accounts:settings")).status_code == 200


def test_a_wrong_old_password_is_refused(teammate_client):
    response = teammate_client.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "a much longer new pass", "new_password2": "a much longer new pass"},
    )
    assert response.status_code == 400


def test_healthz_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, teammate, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": teammate.email, "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = client.post(LOGIN, {"username": teammate.email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_a_proxy_the_address_it_saw_is_used(client, teammate, settings):
    settings.WEBMAIL_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": teammate.email, "password": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = client.post(LOGIN, {"username": teammate.email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = client.post(LOGIN, {"username": teammate.email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


def test_ensure_admin_refuses_a_weak_password(db, monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setenv("WEBMAIL_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="too weak"):
        call_command("ensure_admin")


def test_background_polling_does_not_keep_a_session_alive(owner_client):
    owner_client.get(reverse("accounts:settings"))
    session = owner_client.session
    session["_seen"] = 1
    session.save()
    owner_client.get(reverse("accounts:settings"), headers={"HX-Request": "true", "X-Background-Poll": "1"})
    assert owner_client.session["_seen"] == 1
    owner_client.get(reverse("accounts:settings"))
    assert owner_client.session["_seen"] > 1
