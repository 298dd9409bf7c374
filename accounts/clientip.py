"""The client's address, for login lockouts.

X-Forwarded-For is only believed as far as WEBMAIL_PROXY_COUNT says: with no proxy configured,
a client could otherwise name any address it likes and dodge its lockout.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = settings.WEBMAIL_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        # Each trusted proxy appended the address it saw; the one our outermost proxy saw is
        # `proxies` from the right. Anything further left was written by the client.
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
