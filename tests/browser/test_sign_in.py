"""The sign-in journey a new team member takes, in a real browser."""

import base64
import re

from django.urls import reverse
from django_otp.oath import totp

from tests.factories import PASSWORD, UserFactory
from tests.helpers import enrol_totp


def code_for(secret_text: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret_text.replace(" ", ""))
    # drift shifts the time step: a code for the next step is accepted (tolerance 1) and is not a replay.
    return f"{totp(key, drift=steps_ahead):06d}"


def sign_in_with_password(page, email: str, password: str = PASSWORD) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_a_new_user_enrols_totp_signs_out_and_back_in(page, transactional_db):
    user = UserFactory(email="newcomer@example.test", full_name="Nina Newcomer")

    sign_in_with_password(page, user.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/setup/"))
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_for(secret))
    page.get_by_role("button", name="Confirm").click()

    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("heading", name="Welcome, Nina").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.get_by_text("You are signed out.").is_visible()

    sign_in_with_password(page, user.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/"))
    page.get_by_label("Code").fill(code_for(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("heading", name="Welcome, Nina").is_visible()


def test_a_wrong_code_is_explained_on_the_page(page, transactional_db):
    user = UserFactory()
    enrol_totp(user)
    sign_in_with_password(page, user.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("alert").filter(has_text="not right").is_visible()


def test_the_admin_refuses_a_staff_user_who_has_not_passed_the_second_factor(page, transactional_db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enrol_totp(staff)
    sign_in_with_password(page, staff.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/"))

    page.goto(reverse("admin:index"))
    assert "/accounts/2fa/" in page.url
    assert page.get_by_role("heading", name="Two-step verification").is_visible()
    page.goto(reverse("admin:accounts_user_changelist"))
    assert "/admin/" not in page.url.split("?")[0]
