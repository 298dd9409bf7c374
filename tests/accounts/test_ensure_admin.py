"""The first admin: created once, its generated password shown boxed; ``--reset`` when it is lost."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


def box_lines(text: str) -> list[str]:
    """The box's lines, without the frame; the box must be whole and square."""
    lines = text.strip().splitlines()
    assert re.fullmatch(r"\+-+\+", lines[0]) and lines[-1] == lines[0]
    assert all(len(line) == len(lines[0]) and line.startswith("| ") and line.endswith(" |") for line in lines[1:-1])
    return [line[2:-2].rstrip() for line in lines[1:-1]]


def password_in(lines: list[str], prefix: str) -> str:
    return next(line.removeprefix(prefix) for line in lines if line.startswith(prefix))


def post_login(client, email: str, password: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_the_first_admin_gets_a_generated_password_shown_once_in_a_box(db, monkeypatch):
    monkeypatch.delenv("WEBMAIL_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("WEBMAIL_ADMIN_PASSWORD", raising=False)
    lines = box_lines(run())
    assert lines[0] == "Created the first admin: admin@localhost"
    password = password_in(lines, "Password: ")
    assert len(password) >= 16
    assert any("ensure_admin --reset" in line for line in lines)
    admin = User.objects.get(email="admin@localhost")
    assert admin.is_superuser and admin.is_staff and admin.check_password(password)

    assert run() == ""
    assert User.objects.count() == 1


def test_a_password_from_the_environment_is_not_printed(db, monkeypatch):
    monkeypatch.setenv("WEBMAIL_ADMIN_EMAIL", "Boss@Example.TEST")
    monkeypatch.setenv("WEBMAIL_ADMIN_PASSWORD", PASSWORD)
    output = run()
    assert PASSWORD not in output
    assert "Created the first admin: boss@example.test" in output
    assert User.objects.get(email="boss@example.test").check_password(PASSWORD)


def test_a_weak_password_from_the_environment_is_refused(db, monkeypatch):
    monkeypatch.setenv("WEBMAIL_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="WEBMAIL_ADMIN_PASSWORD is too weak"):
        run()
    assert not User.objects.exists()


def test_reset_gives_the_first_superuser_a_new_password_and_lifts_the_lockout(client, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, owner.email, "wrong password")
    assert post_login(client, owner.email, PASSWORD).status_code == 429

    lines = box_lines(run("--reset"))
    password = password_in(lines, f"New password for {owner.email}: ")
    owner.refresh_from_db()
    assert owner.check_password(password) and not owner.check_password(PASSWORD)
    response = post_login(client, owner.email, password)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(owner.pk)


def test_reset_of_a_named_admin_and_only_an_admin(owner, teammate):
    helper = User.objects.create_user(email="helper@example.test", password=PASSWORD, is_staff=True)
    lines = box_lines(run("--reset", "--email", "HELPER@example.test"))
    assert helper.email in lines[0]
    helper.refresh_from_db()
    assert helper.check_password(password_in(lines, f"New password for {helper.email}: "))
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD), "the first superuser is left alone"

    with pytest.raises(CommandError, match="No active admin"):
        run("--reset", "--email", teammate.email)
    teammate.refresh_from_db()
    assert teammate.check_password(PASSWORD)


def test_reset_without_any_superuser_says_how_to_make_one(db):
    with pytest.raises(CommandError, match="no superuser"):
        run("--reset")
