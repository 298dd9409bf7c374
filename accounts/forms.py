from __future__ import annotations

import unicodedata
from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Identity, User


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


UNDO_CHOICES = (0, 5, 10, 20, 30)


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone the system knows, sorted (read from disk once)."""
    return tuple(sorted(available_timezones()))


def _undo_label(seconds: int) -> str:
    return str(_("Off")) if seconds == 0 else _("%(seconds)d seconds") % {"seconds": seconds}


class PreferencesForm(forms.ModelForm):
    """A user's own settings: name, time zone, language, how dates and lists look, the reading
    pane, light or dark, undo-send window, plain-text composing, remote images from people they
    have written to, and the default sender address (only among their own identities)."""

    default_identity = forms.ModelChoiceField(
        label=_("Default sender address"),
        queryset=Identity.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your own sender addresses.")},
    )

    class Meta:
        model = User
        fields = [
            "full_name",
            "time_zone",
            "language",
            "date_format",
            "density",
            "reading_pane",
            "theme",
            "undo_send_seconds",
            "compose_plain",
            "images_from_correspondents",
        ]
        labels = {
            "full_name": _("Your name"),
            "time_zone": _("Time zone"),
            "language": _("Language"),
            "date_format": _("Date format"),
            "density": _("List density"),
            "reading_pane": _("Reading pane"),
            "theme": _("Appearance"),
            "undo_send_seconds": _("Undo send"),
            "compose_plain": _("Compose in plain text"),
            "images_from_correspondents": _("Show remote images from people I have written to"),
        }

    def __init__(self, data=None, *, instance: User) -> None:
        super().__init__(data, instance=instance)
        site_zone = settings.TIME_ZONE
        zone = self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"),
            required=False,
            choices=[("", _("Site default (%(zone)s)") % {"zone": site_zone}), *((n, n) for n in time_zone_names())],
            help_text=_("Dates and times are shown, and “send later” is read, in this zone."),
        )
        zone.initial = instance.time_zone
        undo = [*UNDO_CHOICES]
        if instance.undo_send_seconds is not None and instance.undo_send_seconds not in undo:
            undo = sorted([*undo, instance.undo_send_seconds])  # set by an administrator: kept choosable
        site_undo = settings.WEBMAIL_UNDO_SECONDS
        self.fields["undo_send_seconds"] = forms.TypedChoiceField(
            label=_("Undo send"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[
                ("", _("Site default (%(seconds)d s)") % {"seconds": site_undo}),
                *((seconds, _undo_label(seconds)) for seconds in undo),
            ],
            help_text=_("How long a sent message waits, so that you can still undo it."),
        )
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            required=False,
            choices=[("", _("The browser's")), *((code, name) for code, name in settings.LANGUAGES)],
            help_text=_("Pages, dates and the mail the app writes (the attribution line of a reply) use it."),
        )
        self.fields["language"].initial = instance.language
        self.fields["density"].required = False
        self.fields["compose_plain"].help_text = _("New messages start in plain text instead of rich text.")
        self.fields["full_name"].help_text = _("Shown at the top of the page.")
        identities = instance.identities.select_related("account").order_by("address")
        if identities.exists():
            field = self.fields["default_identity"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = identities
            field.initial = next((i.pk for i in identities if i.is_default), None)
            field.help_text = _("The address new messages are sent from unless you choose another.")
        else:
            del self.fields["default_identity"]

    def clean_density(self) -> str:
        return self.cleaned_data["density"] or "comfortable"  # a form posted before the field existed

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"].strip()
        if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name):
            raise forms.ValidationError(_("A name cannot contain line breaks or control characters."))
        return name

    def save(self, commit: bool = True) -> User:
        """The user's fields and, in the same transaction, the new default identity."""
        user = self.instance
        with transaction.atomic():
            user.save(update_fields=list(self.Meta.fields))
            identity = self.cleaned_data.get("default_identity")
            if identity is not None and not identity.is_default:
                identity.is_default = True
                identity.save(update_fields=["is_default"])  # Identity.save clears the old default first
        return user
