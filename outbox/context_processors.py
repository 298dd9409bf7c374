from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import MailAccount


def smtp_hold(request: HttpRequest) -> dict:
    """``smtp_held``: whether sending is held for one of the user's accounts (queried only if shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"smtp_held": False}
    return {
        "smtp_held": SimpleLazyObject(
            lambda: MailAccount.objects.filter(user=user, smtp_held_at__isnull=False).exists()
        )
    }
