from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": _("That email address and password do not match. Check both and try again."),
        "inactive": _("This account is disabled. Ask your administrator."),
    }


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )
