"""Create the first superuser when there is none (used by ``make run``)."""

import os
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User


class Command(BaseCommand):
    help = "Create the first admin from WEBMAIL_ADMIN_EMAIL / WEBMAIL_ADMIN_PASSWORD if no superuser exists."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            if User.objects.filter(is_superuser=True).exists():
                return
            email = os.environ.get("WEBMAIL_ADMIN_EMAIL", "admin@localhost").strip().lower()
            password = os.environ.get("WEBMAIL_ADMIN_PASSWORD", "")
            generated = not password
            if generated:
                password = secrets.token_urlsafe(12)
            else:
                try:
                    validate_password(password)
                except ValidationError as exc:
                    raise CommandError(f"WEBMAIL_ADMIN_PASSWORD is too weak: {' '.join(exc.messages)}") from None
            User.objects.create_superuser(email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Created the first admin: {email}"))
        if generated:
            # Printed once, to the terminal of the person who ran `make run`; never logged.
            self.stdout.write(f"  password: {password}")
            self.stdout.write("  (shown only now; change it under Settings after signing in)")
