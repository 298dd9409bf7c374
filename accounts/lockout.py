"""Who a login attempt is for, as the lockout counts it.

Sign-in matches the address case-insensitively and the form strips spaces, so the lockout must
count every spelling of one address as the same person: otherwise `Alice@…` and `aLice@…` would
each get their own tries, and a correct password under a fresh spelling would sign in while the
real one is locked.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.models import User


def username(request: HttpRequest, credentials: dict | None) -> str | None:
    field = settings.AXES_USERNAME_FORM_FIELD
    typed = (credentials or getattr(request, "data", request.POST)).get(field)
    if typed is None:
        return None
    address = str(typed).strip().lower()
    # The stored address is the one sign-in would find, whatever the database's idea of case.
    stored = User.objects.filter(email__iexact=address).values_list("email", flat=True).first()
    return stored or address
