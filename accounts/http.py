"""The request a view receives behind the project's middleware, as the type checker should see it.

Behind ``login_required`` (or the admin's permission check) ``request.user`` is a ``User``, never
``AnonymousUser``; django-htmx's middleware adds ``request.htmx``; django-otp's adds
``request.user.is_verified()`` (declared on ``User`` for the type checker only).
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class SignedInRequest(HtmxRequest):
    user: User
