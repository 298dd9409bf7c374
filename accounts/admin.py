from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts import twofactor
from accounts.connection import TooManyChecks, check_account
from accounts.models import AuthenticatorDevice, ConnectionCheck, Identity, MailAccount, User
from accounts.signals import smtp_password_replaced


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MailAccountInline(admin.TabularInline):
    model = MailAccount
    fields = ("label", "imap_host", "smtp_host", "imap_username")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("email", "full_name", "is_active", "is_staff", "has_second_factor", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    inlines = [MailAccountInline]
    actions = ["reset_second_factor", "disable_users"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "time_zone")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "usable_password", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        confirmed = AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(_has_second_factor=Exists(confirmed))

    @admin.display(boolean=True, description=_("2FA"), ordering="_has_second_factor")
    def has_second_factor(self, obj: User) -> bool:
        return obj._has_second_factor

    @admin.action(description=_("Reset second factor (the user enrols again at next login)"))
    def reset_second_factor(self, request: HttpRequest, queryset) -> None:
        for user in queryset:
            twofactor.reset(user)
        self.message_user(
            request, _("Second factor reset for %(count)d user(s).") % {"count": len(queryset)}, messages.SUCCESS
        )

    @admin.action(description=_("Disable selected users"))
    def disable_users(self, request: HttpRequest, queryset) -> None:
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(request, _("%(count)d user(s) disabled.") % {"count": count}, messages.SUCCESS)


class MailAccountForm(forms.ModelForm):
    """Passwords are write-only: the form never shows one, and an empty field keeps the stored value."""

    new_imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    new_smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Only if it differs from the IMAP password."),
    )
    use_imap_password_for_smtp = forms.BooleanField(
        label=_("Use the IMAP password for SMTP"), required=False, initial=True
    )

    class Meta:
        model = MailAccount
        fields = (
            "user",
            "label",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "ca_certificates",
            "trusted_certificate_sha256",
            "sent_folder",
            "server_saves_sent",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.pk and self.instance.imap_password
        self.fields["new_imap_password"].help_text = (
            _("A password is stored. Leave empty to keep it.") if stored else _("Required.")
        )
        if self.instance.pk:
            self.fields["use_imap_password_for_smtp"].initial = not self.instance.smtp_password
        self._had_own_smtp_password = bool(self.instance.smtp_password)

    @method_decorator(sensitive_variables("cleaned"))
    def clean(self):
        cleaned = super().clean()
        if not self.instance.imap_password and not cleaned.get("new_imap_password"):
            self.add_error("new_imap_password", _("Enter the IMAP password."))
        if (
            not cleaned.get("use_imap_password_for_smtp")
            and not cleaned.get("new_smtp_password")
            and not self.instance.smtp_password
        ):
            self.add_error("new_smtp_password", _("Enter the SMTP password, or tick 'Use the IMAP password'."))
        for field in ("new_imap_password", "new_smtp_password"):
            if any(ch in cleaned.get(field, "") for ch in "\r\n\0"):
                self.add_error(field, _("A password cannot contain line breaks."))
        return cleaned

    def smtp_password_changed(self) -> bool:
        """Whether this save gives SMTP a different password: its own new one, or the IMAP one."""
        cleaned = self.cleaned_data
        if cleaned.get("use_imap_password_for_smtp"):
            return bool(cleaned.get("new_imap_password")) or self._had_own_smtp_password
        return bool(cleaned.get("new_smtp_password"))

    def save(self, commit: bool = True) -> MailAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_imap_password"):
            account.set_secret("imap_password", self.cleaned_data["new_imap_password"])
        if self.cleaned_data.get("use_imap_password_for_smtp"):
            account.smtp_password = ""
        elif self.cleaned_data.get("new_smtp_password"):
            account.set_secret("smtp_password", self.cleaned_data["new_smtp_password"])
        if commit:
            account.save()
        return account


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = ("display_name", "address", "is_default", "signature", "signature_html")
    extra = 1


class ConnectionCheckInline(admin.TabularInline):
    model = ConnectionCheck
    fields = ("created_at", "requested_by", "imap_ok", "imap_message", "smtp_ok", "smtp_message")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("recent connection tests")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    form = MailAccountForm
    list_display = (
        "user",
        "label",
        "imap_host",
        "imap_port",
        "smtp_host",
        "smtp_port",
        "password_stored",
        "sending_held",
    )
    readonly_fields = ("smtp_held_at", "smtp_hold_reason")
    list_select_related = ("user",)
    search_fields = ("user__email", "imap_username", "imap_host", "smtp_host")
    autocomplete_fields = ("user",)
    inlines = [IdentityInline, ConnectionCheckInline]
    actions = ["test_connection"]
    change_form_template = "admin/accounts/mailaccount/change_form.html"
    fieldsets = (
        (None, {"fields": ("user", "label")}),
        (_("IMAP"), {"fields": ("imap_host", "imap_port", "imap_security", "imap_username", "new_imap_password")}),
        (
            _("SMTP"),
            {
                "fields": (
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "use_imap_password_for_smtp",
                    "new_smtp_password",
                )
            },
        ),
        (
            _("Certificates"),
            {"classes": ("collapse",), "fields": ("ca_certificates", "trusted_certificate_sha256")},
        ),
        (
            _("Sent mail"),
            {"fields": ("sent_folder", "server_saves_sent", "smtp_held_at", "smtp_hold_reason")},
        ),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [IdentityInline]

    @method_decorator(sensitive_post_parameters("new_imap_password", "new_smtp_password"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            # The last connection test, with the certificate a server presented if it was not
            # trusted, and the button that pins it.
            extra_context = {
                **(extra_context or {}),
                "last_check": ConnectionCheck.objects.filter(account_id=object_id).first(),
                "can_pin": self.has_change_permission(request),
                "pin_next": request.get_full_path(),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(boolean=True, description=_("sending held"))
    def sending_held(self, obj: MailAccount) -> bool:
        return obj.smtp_held_at is not None

    @admin.display(boolean=True, description=_("password stored"))
    def password_stored(self, obj: MailAccount) -> bool:
        return bool(obj.imap_password)

    def save_model(self, request: HttpRequest, obj: MailAccount, form: MailAccountForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and obj.smtp_held_at is not None and form.smtp_password_changed():
            # The refused password was replaced: the outbox queues the mail that waited for it.
            answers = smtp_password_replaced.send(sender=MailAccount, account=obj)
            requeued = sum(count for _receiver, count in answers if isinstance(count, int))
            obj.smtp_held_at, obj.smtp_hold_reason = None, ""
            self.message_user(
                request,
                ngettext(
                    "Sending resumed: %(count)d held message is queued again.",
                    "Sending resumed: %(count)d held messages are queued again.",
                    requeued,
                )
                % {"count": requeued},
                messages.SUCCESS,
            )

    def save_formset(self, request, form, formset, change) -> None:
        # An identity belongs to the account's user; the admin does not pick it separately.
        for identity in formset.save(commit=False):
            if isinstance(identity, Identity):
                identity.user_id = form.instance.user_id
            identity.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    def get_urls(self):
        urls = super().get_urls()
        test_url = path(
            "<uuid:account_id>/test-connection/",
            self.admin_site.admin_view(require_POST(self.test_connection_view)),
            name="accounts_mailaccount_test_connection",
        )
        return [test_url, *urls]

    def _report(self, request: HttpRequest, account: MailAccount) -> bool:
        try:
            check = check_account(account, request.user)
        except TooManyChecks:
            self.message_user(request, _("Too many connection tests in the last hour; try later."), messages.ERROR)
            return False
        results = (("IMAP", check.imap_ok, check.imap_message), ("SMTP", check.smtp_ok, check.smtp_message))
        for service, ok, message in results:
            self.message_user(request, f"{account}: {service}: {message}", messages.SUCCESS if ok else messages.ERROR)
        return True

    def test_connection_view(self, request: HttpRequest, account_id) -> HttpResponse:
        account = get_object_or_404(MailAccount, pk=account_id)
        if not self.has_change_permission(request, account):
            return redirect("admin:index")
        self._report(request, account)
        return redirect(reverse("admin:accounts_mailaccount_change", args=[account.pk]))

    @admin.action(description=_("Test connection"))
    def test_connection(self, request: HttpRequest, queryset) -> None:
        for account in queryset.select_related("user"):
            if not self._report(request, account):
                break


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("address", "display_name", "user", "account", "is_default")
    list_select_related = ("user", "account")
    search_fields = ("address", "display_name", "user__email")
    autocomplete_fields = ("user", "account")
