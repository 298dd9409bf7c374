from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts import crypto
from accounts.crypto import Secret
from webmail.protocol import mailservers
from webmail.protocol.mailservers import is_loopback


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str) -> User:
        # People type their address with any capitalisation; addresses are stored lower-cased.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person on the team. They log in with their email address."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Unticking this disables the user without deleting their data.")
    )
    is_staff = models.BooleanField(_("staff"), default=False, help_text=_("May use the admin panel."))
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    undo_send_seconds = models.PositiveSmallIntegerField(
        _("undo send window (seconds)"),
        null=True,
        blank=True,
        help_text=_("How long a sent message waits so it can still be cancelled. Empty: the site default."),
    )
    compose_plain = models.BooleanField(
        _("compose in plain text"),
        default=False,
        help_text=_("New messages start in plain text instead of rich text; each message can still switch."),
    )

    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("The language of the pages and of the mail the app writes. Empty: the browser's."),
    )
    date_format = models.CharField(
        _("date format"),
        max_length=8,
        blank=True,
        choices=[("", _("The language's own")), ("iso", "2026-12-31"), ("dmy", "31/12/2026"), ("mdy", "12/31/2026")],
    )
    density = models.CharField(
        _("list density"),
        max_length=12,
        default="comfortable",
        choices=[("comfortable", _("Comfortable")), ("compact", _("Compact"))],
    )
    reading_pane = models.BooleanField(
        _("reading pane"),
        default=False,
        help_text=_("On a wide screen, open messages beside the list instead of in its place."),
    )
    theme = models.CharField(
        _("theme"),
        max_length=8,
        blank=True,
        choices=[("", _("Follow the system")), ("light", _("Light")), ("dark", _("Dark"))],
    )
    images_from_correspondents = models.BooleanField(
        _("show remote images from people I have written to"),
        default=False,
        help_text=_("Remote images in mail from an address you have sent mail to are shown without asking."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    if TYPE_CHECKING:

        def is_verified(self) -> bool:
            """Set on each request's user by django-otp's middleware: past the second factor."""
            ...

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    @property
    def zone(self) -> ZoneInfo:
        """The user's own time zone if they set a valid one, else the site's."""
        for name in (self.time_zone, settings.TIME_ZONE):
            if name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Security(models.TextChoices):
    TLS = mailservers.Security.TLS.value, _("TLS (implicit)")
    STARTTLS = mailservers.Security.STARTTLS.value, _("STARTTLS")
    NONE = mailservers.Security.NONE.value, _("None (loopback only)")


def _imap_host() -> str:
    return settings.WEBMAIL_IMAP_HOST


def _imap_port() -> int:
    return settings.WEBMAIL_IMAP_PORT


def _imap_security() -> str:
    return settings.WEBMAIL_IMAP_SECURITY


def _smtp_host() -> str:
    return settings.WEBMAIL_SMTP_HOST


def _smtp_port() -> int:
    return settings.WEBMAIL_SMTP_PORT


def _smtp_security() -> str:
    return settings.WEBMAIL_SMTP_SECURITY


class MailAccount(models.Model):
    """A user's mailbox on the team's IMAP server and their login to its SMTP submission server.

    Passwords are stored encrypted (see ``accounts.crypto``); the primary key is a UUID so it is
    known before the first INSERT and can be bound into the ciphertext.
    """

    SECRET_FIELDS = ("imap_password", "smtp_password")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_accounts")
    label = models.CharField(_("label"), max_length=100, default="Mail")

    imap_host = models.CharField(_("IMAP host"), max_length=255, default=_imap_host)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=_imap_port)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=_imap_security
    )
    imap_username = models.CharField(
        _("IMAP username"), max_length=255, blank=True, help_text=_("Leave empty to use the user's email address.")
    )
    imap_password = models.TextField(_("IMAP password (encrypted)"), blank=True, editable=False)

    smtp_host = models.CharField(_("SMTP host"), max_length=255, default=_smtp_host)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=_smtp_port)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=_smtp_security
    )
    smtp_username = models.CharField(
        _("SMTP username"), max_length=255, blank=True, help_text=_("Leave empty to use the IMAP username.")
    )
    smtp_password = models.TextField(
        _("SMTP password (encrypted)"),
        blank=True,
        editable=False,
        help_text=_("Empty means the IMAP password is used."),
    )

    ca_certificates = models.TextField(
        _("extra trusted CA certificates (PEM)"),
        blank=True,
        help_text=_("For a server whose certificate is signed by your own CA. Verification stays on."),
    )
    trusted_certificate_sha256 = models.CharField(
        _("trust this certificate (SHA-256 fingerprint)"),
        max_length=95,
        blank=True,
        help_text=_(
            "Accept exactly this server certificate even though no CA vouches for it. "
            "Use only for a self-signed certificate you have checked yourself."
        ),
    )

    sent_folder = models.CharField(
        _("Sent folder"),
        max_length=255,
        blank=True,
        help_text=_("Where copies of sent mail go. Empty: the folder the server marks as Sent."),
    )
    server_saves_sent = models.BooleanField(
        _("the server saves sent mail itself"),
        default=False,
        help_text=_("Tick if the mail server already files submitted mail in Sent, so no second copy is made."),
    )
    smtp_held_at = models.DateTimeField(_("sending held since"), null=True, blank=True)
    smtp_hold_reason = models.CharField(_("why sending is held"), max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mail account")
        verbose_name_plural = _("mail accounts")
        ordering = ["user__email", "label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.imap_login})"

    def save(self, *args, **kwargs) -> None:
        pending = self.__dict__.pop("_pending_secrets", {})
        if self.pk is None:
            self.pk = uuid.uuid4()
        for field, plaintext in pending.items():
            sealed = crypto.encrypt(plaintext.reveal(), context=self._secret_context(field)) if plaintext else ""
            setattr(self, field, sealed)
        super().save(*args, **kwargs)

    @cached_property
    def last_check(self) -> ConnectionCheck | None:
        """The latest connection test, as the settings page shows it."""
        return self.connection_checks.first()

    @property
    def imap_login(self) -> str:
        return self.imap_username or self.user.email

    @property
    def smtp_login(self) -> str:
        return self.smtp_username or self.imap_login

    def clean(self) -> None:
        super().clean()
        errors = {}
        for prefix in ("imap", "smtp"):
            host = getattr(self, f"{prefix}_host")
            if getattr(self, f"{prefix}_security") == Security.NONE and not is_loopback(host):
                errors[f"{prefix}_security"] = _(
                    "An unencrypted connection is only allowed to a server on this machine (localhost)."
                )
        fingerprint = normalize_fingerprint(self.trusted_certificate_sha256)
        if self.trusted_certificate_sha256 and fingerprint is None:
            errors["trusted_certificate_sha256"] = _("Enter a SHA-256 fingerprint: 64 hex digits, colons optional.")
        else:
            self.trusted_certificate_sha256 = fingerprint or ""
        if errors:
            raise ValidationError(errors)

    # Secrets -------------------------------------------------------------------------------

    def _secret_context(self, field: str) -> str:
        return f"{self._meta.label_lower}:{self.pk}:{field}"

    @sensitive_variables("plaintext")
    def set_secret(self, field: str, plaintext: str | Secret) -> None:
        """Set a password; it is encrypted when the row is saved, once its primary key is final.

        (The admin's inline formsets reset a new row's UUID before saving it, so binding the
        ciphertext to the key any earlier would seal it to a key the row never gets.)
        """
        if field not in self.SECRET_FIELDS:
            raise ValueError(f"{field} is not a secret field")
        secret = plaintext if isinstance(plaintext, Secret) else Secret(plaintext)
        self.__dict__.setdefault("_pending_secrets", {})[field] = secret
        setattr(self, field, "")

    @sensitive_variables()
    def get_secret(self, field: str) -> Secret:
        """The decrypted password, as a Secret: ``.reveal()`` where the text itself is needed."""
        if field not in self.SECRET_FIELDS:
            raise ValueError(f"{field} is not a secret field")
        pending = self.__dict__.get("_pending_secrets", {})
        if field in pending:
            return pending[field]
        token = getattr(self, field)
        return Secret(crypto.decrypt(token, context=self._secret_context(field)) if token else "")

    def imap_credentials(self) -> tuple[str, Secret]:
        return self.imap_login, self.get_secret("imap_password")

    def smtp_credentials(self) -> tuple[str, Secret]:
        password = self.get_secret("smtp_password") if self.smtp_password else self.get_secret("imap_password")
        return self.smtp_login, password

    def rotate_secrets(self) -> list[str]:
        """Re-encrypt every secret not under the newest key; returns the fields changed (unsaved)."""
        changed = []
        for field in self.SECRET_FIELDS:
            token = getattr(self, field)
            if token and not crypto.is_current(token):
                self.set_secret(field, self.get_secret(field))
                changed.append(field)
        return changed


def normalize_fingerprint(value: str) -> str | None:
    digits = "".join(ch for ch in value.lower() if ch not in ": \t")
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2)).upper()


class Identity(models.Model):
    """An address a user may send as. Only an admin creates these."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    account = models.ForeignKey(
        MailAccount,
        on_delete=models.CASCADE,
        related_name="identities",
        help_text=_("The account whose SMTP server sends mail from this address."),
    )
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    address = models.EmailField(_("address"))
    signature = models.TextField(
        _("signature"), blank=True, help_text=_("Plain text, for messages written in plain text.")
    )
    signature_html = models.TextField(
        _("rich signature"),
        blank=True,
        help_text=_("HTML, sanitized like a message body, for rich-text messages. Empty: the plain signature is used."),
    )
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        ordering = ["-is_default", "address"]
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="identity_unique_address_per_user"),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="identity_one_default_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address

    def save(self, *args, **kwargs) -> None:
        # The first identity becomes the default; a new default replaces the old one.
        with transaction.atomic():
            others = Identity.objects.select_for_update().filter(user_id=self.user_id).exclude(pk=self.pk)
            if not self.is_default and not others.filter(is_default=True).exists():
                self.is_default = True
            if self.is_default:
                others.filter(is_default=True).update(is_default=False)
            super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.address = self.address.strip().lower()
        if any(ch in self.display_name for ch in "\r\n\0"):
            raise ValidationError({"display_name": _("A display name cannot contain line breaks.")})
        if self.account_id and self.user_id and self.account.user_id != self.user_id:
            raise ValidationError({"account": _("The account must belong to the same user.")})


# The connection checks and the second-factor devices live in their own modules; imported here
# so that Django finds the models.
from accounts.connection_checks import ConnectionCheck, ConnectionCheckQuerySet  # noqa: E402, F401
from accounts.devices import AuthenticatorDevice, BackupCode, BackupCodeDevice  # noqa: E402, F401
