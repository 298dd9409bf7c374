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


class CurrentCodeField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            label=_("A current code from your authenticator app, or a backup code"),
            max_length=16,
            widget=forms.TextInput(
                attrs={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}
            ),
            **kwargs,
        )


class SetupForm(TokenForm):
    """Enrolment; replacing an authenticator also takes a code of the current second factor, so
    that a stolen session cannot swap in an authenticator of its own."""

    current = CurrentCodeField(required=False)
    field_order = ["current", "token"]

    def __init__(self, *args, replacing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if replacing:
            self.fields["current"].required = True
            self.fields["token"].label = _("Code from the new app")
            self.fields["token"].widget.attrs.pop("autofocus", None)
            self.fields["current"].widget.attrs["autofocus"] = True
        else:
            del self.fields["current"]


class CurrentCodeForm(forms.Form):
    current = CurrentCodeField()
