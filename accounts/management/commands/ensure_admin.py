"""Create the first superuser when there is none (``make run`` does, through ``serve``), or give
an admin a new generated password with ``--reset`` when theirs is lost."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User

RESET_HINT = "Lost it? python manage.py ensure_admin --reset (or changepassword EMAIL)"


def new_password() -> str:
    return secrets.token_urlsafe(12)


def create_first_admin() -> tuple[str, str | None] | None:
    """The first admin from WEBMAIL_ADMIN_EMAIL / WEBMAIL_ADMIN_PASSWORD, if there is no superuser.

    Returns (email, the generated password, or None when it came from the environment), or None
    when a superuser already existed.
    """
    with transaction.atomic():
        if User.objects.filter(is_superuser=True).exists():
            return None
        email = os.environ.get("WEBMAIL_ADMIN_EMAIL", "admin@localhost").strip().lower()
        password = os.environ.get("WEBMAIL_ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = new_password()
        else:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(f"WEBMAIL_ADMIN_PASSWORD is too weak: {' '.join(exc.messages)}") from None
        User.objects.create_superuser(email=email, password=password)
    return email, password if generated else None


def first_admin_box(email: str, password: str | None) -> str:
    if password is None:
        return boxed([f"Created the first admin: {email}", "Password: the one in WEBMAIL_ADMIN_PASSWORD"])
    return boxed(
        [
            f"Created the first admin: {email}",
            f"Password: {password}",
            "Shown only now: note it, then change it under Settings after signing in.",
            RESET_HINT,
        ]
    )


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


class Command(BaseCommand):
    help = (
        "Create the first admin from WEBMAIL_ADMIN_EMAIL / WEBMAIL_ADMIN_PASSWORD if no superuser exists; "
        "with --reset, give an admin a new generated password."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="give the admin (--email, or else the first superuser) a new generated password and print it",
        )
        parser.add_argument("--email", help="with --reset: the admin's email address")

    def handle(self, *args, reset: bool, email: str | None, **options) -> None:
        if email and not reset:
            raise CommandError("--email goes with --reset.")
        if reset:
            self.stdout.write(self._reset(email))
            return
        created = create_first_admin()
        if created is not None:
            # Printed to the terminal of the person who ran it; never logged.
            self.stdout.write(first_admin_box(*created))

    def _reset(self, email: str | None) -> str:
        from axes.utils import reset as reset_lockouts

        admins = User.objects.filter(is_staff=True, is_active=True)
        if email:
            user = admins.filter(email__iexact=email.strip()).first()
            if user is None:
                raise CommandError(f"No active admin has the email address {email.strip()}.")
        else:
            user = admins.filter(is_superuser=True).order_by("pk").first()
            if user is None:
                raise CommandError("There is no superuser; run ensure_admin without --reset to create one.")
        password = new_password()
        user.set_password(password)  # ends the admin's sessions, which carry the old password's hash
        user.save(update_fields=["password"])
        reset_lockouts(username=user.email)
        return boxed(
            [
                f"New password for {user.email}: {password}",
                "Shown only now. Sign-in lockouts for this address are lifted; the",
                "authenticator app and backup codes are unchanged.",
            ]
        )
