from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from accounts.middleware import second_factor_redirect


class SecondFactorAdminSite(admin.AdminSite):
    """The admin panel: staff only, and only after the second factor, whatever WEBMAIL_REQUIRE_2FA says."""

    site_header = _("Webmail administration")
    site_title = _("Webmail admin")
    index_title = _("Users, mail accounts and identities")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return super().has_permission(request) and user.is_authenticated and user.is_verified()

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One login page for everyone: ours, with its second-factor step.
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")
        if not request.user.is_verified():
            target = second_factor_redirect(request, next_url)
            if target is None:
                # 2FA is optional for this site and the user has none: the admin still needs one.
                target = f"{reverse('accounts:setup')}?{urlencode({'next': next_url})}"
            return redirect(target)
        if self.has_permission(request):
            return redirect(next_url)
        return render(request, "admin/no_access.html", {**self.each_context(request)}, status=403)
