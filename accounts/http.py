"""The request a view receives behind the project's middleware, as the type checker should see it,
and what views of every app ask of a request: a safe ``next`` address, the user's own mail account.

Behind ``login_required`` (or the admin's permission check) ``request.user`` is a ``User``, never
``AnonymousUser``; django-htmx's middleware adds ``request.htmx``; django-otp's adds
``request.user.is_verified()`` (declared on ``User`` for the type checker only).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from accounts.models import MailAccount, User


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class SignedInRequest(HtmxRequest):
    user: User


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` address posted (or in the query string) if it points at this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = {request.get_host()}
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=allowed, require_https=request.is_secure()):
        return candidate
    return default


def own_account(request: SignedInRequest, account_id: object) -> MailAccount:
    """The signed-in user's mail account ``account_id``; anyone else's is a 404, like a missing one."""
    return get_object_or_404(MailAccount, pk=account_id, user=request.user)
