from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts import dates, twofactor

# How often an active session's expiry is pushed forward; writing it on every request would
# cost a database write per page.
ACTIVITY_RESOLUTION_SECONDS = 60


class UserLanguageMiddleware:
    """The signed-in user's language and date order, when they chose them in Settings.

    Runs after AuthenticationMiddleware. A user who chose no language, and every signed-out
    page, keep LocaleMiddleware's choice (the browser's Accept-Language). LocaleMiddleware,
    which runs outside this one, then writes the language in effect into Content-Language
    and adds ``Vary: Accept-Language``; reading the session for the user adds ``Vary: Cookie``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = date_order = ""
        if user is not None and user.is_authenticated:
            language, date_order = user.language, user.date_format
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        dates.activate(date_order)
        try:
            return self.get_response(request)
        finally:
            dates.activate("")  # what runs next in this thread (a task run eagerly, say) is nobody's


class SessionActivityMiddleware:
    """Make WEBMAIL_SESSION_IDLE_TIMEOUT an idle timeout rather than an absolute one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A page polling for updates is not a person using it: it must not keep the session alive
        # (nor does a page's live event stream, which says so by setting request.background).
        polling = request.headers.get("X-Background-Poll") == "1" or getattr(request, "background", False)
        if session is not None and session.session_key and not session.is_empty() and not polling:
            now = int(time.time())
            if now - session.get("_seen", 0) >= ACTIVITY_RESOLUTION_SECONDS:
                session["_seen"] = now  # modifying the session makes Django save it with a fresh expiry
        return response


def second_factor_exempt(view):
    """Mark a view that a password-only session may reach (the second-factor pages, logout)."""
    view.second_factor_exempt = True
    return view


def second_factor_redirect(request: HttpRequest, next_url: str | None = None) -> str | None:
    """Where a logged-in but unverified user must go next, or None when they may go on."""
    user = request.user
    # Right after the password step the user object is fresh from the login form and has no
    # is_verified() yet (OTPMiddleware adds it at the start of a request): it is not verified.
    if not user.is_authenticated or getattr(user, "is_verified", lambda: False)():
        return None
    query = urlencode({"next": next_url or request.get_full_path()})
    if twofactor.has_second_factor(user):
        return f"{reverse('accounts:verify')}?{query}"
    if settings.WEBMAIL_REQUIRE_2FA:
        return f"{reverse('accounts:setup')}?{query}"
    return None


class SecondFactorMiddleware:
    """Send password-only sessions to the second-factor step before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if getattr(view_func, "second_factor_exempt", False) or request.path_info.startswith(f"/{settings.STATIC_URL}"):
            return None
        target = second_factor_redirect(request)
        if target is None:
            return None
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)


class PrivatePagesMiddleware:
    """Every page a signed-in person sees is theirs alone: no browser or proxy may keep a copy
    (the back button after sign-out, a shared computer). A response that sets its own
    Cache-Control (a message image sent with a private max-age, say) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
