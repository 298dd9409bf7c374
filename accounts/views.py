from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import twofactor
from accounts.connection import TooManyChecks, check_account
from accounts.forms import CurrentCodeForm, LoginForm, PreferencesForm, SetupForm, TokenForm
from accounts.http import SignedInRequest, next_url, own_account
from accounts.middleware import second_factor_exempt, second_factor_redirect
from accounts.models import BackupCodeDevice, ConnectionCheck, MailAccount, User, normalize_fingerprint
from webmail.protocol import imap, smtp
from webmail.protocol.mailservers import MailServerError, fingerprint


def _next_url(request: HttpRequest) -> str:
    return next_url(request, resolve_url(settings.LOGIN_REDIRECT_URL))


def _redirect_next(request: HttpRequest) -> HttpResponse:
    return redirect(_next_url(request))


def _complete_second_factor(request: SignedInRequest, device) -> None:
    otp_login(request, device)
    # A new session key once the second factor is in: a key seen before this point is worthless.
    request.session.cycle_key()
    if isinstance(device, BackupCodeDevice):
        left = twofactor.backup_codes_left(request.user)
        messages.warning(
            request,
            _("You signed in with a backup code. %(count)d backup codes are left.") % {"count": left},
        )


def _token_error(verification: twofactor.Verification) -> tuple[str, int]:
    if verification.outcome is twofactor.CodeResult.REPLAYED:
        return _("That code has already been used. Wait for the next code from your app."), 400
    if verification.outcome is twofactor.CodeResult.THROTTLED:
        retry_at = verification.retry_at or timezone.now()
        wait = max(1, int((retry_at - timezone.now()).total_seconds()) + 1)
        return _("Too many wrong codes. Try again in %(seconds)d seconds.") % {"seconds": wait}, 429
    return _("That code is not right. Check the time on your phone and try the current code."), 400


@second_factor_exempt
@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():
        return _redirect_next(request)
    form = LoginForm(request, data=request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            auth_login(request, form.get_user())
            target = _next_url(request)
            return redirect(second_factor_redirect(request, target) or target)
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=status)


@second_factor_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You are signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@second_factor_exempt
@login_required
@sensitive_post_parameters("token")
@never_cache
def verify(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return _redirect_next(request)
    if not twofactor.has_second_factor(user):
        return redirect(second_factor_redirect(request, _next_url(request)) or _next_url(request))
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            verification = twofactor.verify(user, form.cleaned_data["token"])
            if verification.outcome is twofactor.CodeResult.OK:
                _complete_second_factor(request, verification.device)
                return _redirect_next(request)
            message, status = _token_error(verification)
            form.add_error("token", message)
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)}, status=status)


@second_factor_exempt
@login_required
@sensitive_post_parameters("token", "current")
@never_cache
def setup(request: SignedInRequest) -> HttpResponse:
    user = request.user
    replacing = twofactor.has_second_factor(user)
    if replacing and not user.is_verified():
        # Only someone who passed the current second factor may replace it.
        return redirect(second_factor_redirect(request, _next_url(request)) or "accounts:verify")
    pending = twofactor.pending_key(request.session, user)
    form = SetupForm(request.POST or None, replacing=replacing)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            # The new code is checked first: it is not used up, where a current code would be.
            if not twofactor.is_pending_code(pending, form.cleaned_data["token"]):
                form.add_error("token", _token_error(twofactor.Verification(twofactor.CodeResult.WRONG))[0])
            elif replacing and (current := twofactor.verify(user, form.cleaned_data["current"])).outcome is not (
                twofactor.CodeResult.OK
            ):
                message, status = _token_error(current)
                form.add_error("current", message)
            else:
                verification = twofactor.confirm_enrolment(request.session, user, form.cleaned_data["token"])
                if verification.outcome is twofactor.CodeResult.OK:
                    _complete_second_factor(request, verification.device)
                    codes = twofactor.new_backup_codes(user)
                    context = {"codes": codes, "next": _next_url(request), "first": True}
                    return render(request, "accounts/backup_codes.html", context)
                form.add_error("token", _token_error(verification)[0])
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_code": twofactor.qr_code_data_uri(pending),
        "secret": twofactor.secret_text(pending),
        "replacing": replacing,
    }
    return render(request, "accounts/setup.html", context, status=status)


@login_required
@sensitive_post_parameters("current")
@never_cache
def regenerate_backup_codes(request: SignedInRequest) -> HttpResponse:
    """New backup codes, for a current code: a stolen session cannot mint codes of its own."""
    form = CurrentCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            verification = twofactor.verify(request.user, form.cleaned_data["current"])
            if verification.outcome is twofactor.CodeResult.OK:
                codes = twofactor.new_backup_codes(request.user)
                return render(request, "accounts/backup_codes.html", {"codes": codes, "next": "", "first": False})
            message, status = _token_error(verification)
            form.add_error("current", message)
    return render(request, "accounts/backup_codes_confirm.html", {"form": form}, status=status)


@login_required
@sensitive_post_parameters()
def password_change(request: SignedInRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:settings")
        status = 400
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


def may_pin_certificate(request: SignedInRequest, account: MailAccount | None) -> bool:
    """Whoever may change the account in the admin (where its pin field is) may pin a certificate."""
    model_admin = admin.site._registry.get(MailAccount)
    return (
        model_admin is not None
        and admin.site.has_permission(request)
        and model_admin.has_change_permission(request, account)
    )


def _check_context(request: SignedInRequest, account: MailAccount, check: ConnectionCheck | None, back: str) -> dict:
    return {"check": check, "can_pin": may_pin_certificate(request, account), "pin_next": back}


def _settings_page(request: SignedInRequest, preferences: PreferencesForm, status: int = 200) -> HttpResponse:
    user = request.user
    accounts = list(user.mail_accounts.all())
    context = {
        "preferences": preferences,
        "accounts": accounts,
        "can_pin": may_pin_certificate(request, None),
        "pin_next": reverse("accounts:settings"),
        "identities": user.identities.select_related("account"),
        "has_second_factor": twofactor.has_second_factor(user),
        "backup_codes_left": twofactor.backup_codes_left(user),
        "image_senders": user.remote_images_allowed.all(),
    }
    return render(request, "accounts/settings.html", context, status=status)


@login_required
def settings_page(request: SignedInRequest) -> HttpResponse:
    return _settings_page(request, PreferencesForm(instance=request.user))


@require_POST
@login_required
def preferences(request: SignedInRequest) -> HttpResponse:
    """The Preferences section of the settings page. A refused form comes back with what was
    typed and the reasons; only the user's own row and identities can change."""
    # A copy of the row: a refused form must not leave half its values on request.user.
    form = PreferencesForm(request.POST, instance=User.objects.get(pk=request.user.pk))
    if not form.is_valid():
        return _settings_page(request, form, status=400)
    user = form.save()
    # Said in the language the next page is in: the one just chosen, or still the browser's.
    with translation.override(user.language or translation.get_language_from_request(request)):
        messages.success(request, _("Your preferences are saved."))
    return redirect(reverse("accounts:settings") + "#preferences")


@require_POST
@login_required
def test_connection(request: SignedInRequest, account_id) -> HttpResponse:
    account = own_account(request, account_id)
    try:
        check = check_account(account, request.user)
    except TooManyChecks as exc:
        error = _("Too many connection tests. Try again after %(time)s.") % {
            "time": date_format(timezone.localtime(exc.retry_at), "TIME_FORMAT")
        }
        if request.htmx:
            return render(request, "accounts/_connection_check.html", {"error": error}, status=429)
        messages.error(request, error)
        return redirect("accounts:settings")
    if request.htmx:
        context = _check_context(request, account, check, reverse("accounts:settings"))
        return render(request, "accounts/_connection_check.html", context)
    level = messages.SUCCESS if check.ok else messages.ERROR
    messages.add_message(request, level, f"IMAP: {check.imap_message}")
    messages.add_message(request, level, f"SMTP: {check.smtp_message}")
    return redirect("accounts:settings")  # the page shows the last result, certificates included


@require_POST
@login_required
def pin_certificate(request: SignedInRequest, account_id) -> HttpResponse:
    """Pin the certificate the last connection test saw, once the admin confirms they checked it.

    The fingerprint posted must be the one the test recorded, and the one the server presents
    now (fetched again): never a value the browser made up.
    """
    account = get_object_or_404(MailAccount.objects.select_related("user"), pk=account_id)
    if not may_pin_certificate(request, account):
        raise PermissionDenied
    service = request.POST.get("service", "")
    posted = normalize_fingerprint(request.POST.get("sha256", ""))
    if service not in ("imap", "smtp") or posted is None:
        return HttpResponseBadRequest("unknown service or fingerprint")
    back = _next_url(request)
    if not request.POST.get("confirmed"):
        messages.error(request, _("Nothing was pinned: confirm that you checked the fingerprint first."))
        return redirect(back)
    last = ConnectionCheck.objects.filter(account=account).first()
    recorded = ((last.certificates if last else {}).get(service) or {}).get("sha256")
    if recorded != posted:
        messages.error(request, _("Nothing was pinned: that is not the certificate the last test saw. Test again."))
        return redirect(back)
    try:
        der = (imap if service == "imap" else smtp).peer_certificate(account)
    except MailServerError as exc:
        reason = {"reason": exc}
        messages.error(request, _("Nothing was pinned: the server could not be reached (%(reason)s).") % reason)
        return redirect(back)
    if der is None or fingerprint(der) != posted:
        messages.error(
            request, _("Nothing was pinned: the server now presents another certificate. Test the connection again.")
        )
        return redirect(back)
    account.trusted_certificate_sha256 = posted
    account.save(update_fields=["trusted_certificate_sha256", "updated_at"])
    messages.success(
        request,
        _("%(account)s now trusts the certificate with SHA-256 %(fingerprint)s. Test the connection again.")
        % {"account": account, "fingerprint": posted},
    )
    return redirect(back)
