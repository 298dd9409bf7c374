"""A press of "Test connection" on a mail account and what each server answered."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConnectionCheckQuerySet(models.QuerySet):
    def recent_for(self, user, window: timedelta = timedelta(hours=1)) -> ConnectionCheckQuerySet:
        return self.filter(requested_by=user, created_at__gte=timezone.now() - window)

    def older_than_days(self, days: int) -> ConnectionCheckQuerySet:
        return self.filter(created_at__lt=timezone.now() - timedelta(days=days))


class ConnectionCheck(models.Model):
    """One press of "Test connection": what each server said. Also the basis of its rate limit."""

    account = models.ForeignKey("accounts.MailAccount", on_delete=models.CASCADE, related_name="connection_checks")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    imap_ok = models.BooleanField()
    imap_message = models.CharField(max_length=500)
    smtp_ok = models.BooleanField()
    smtp_message = models.CharField(max_length=500)
    # The certificate each server presented when it was not trusted ({"imap": {...}, "smtp": {...}},
    # see webmail.protocol.mailservers.describe_certificate): what an admin checks before pinning it.
    certificates = models.JSONField(default=dict, blank=True)

    objects = ConnectionCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.account} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return self.imap_ok and self.smtp_ok

    @property
    def untrusted_certificates(self) -> list[dict]:
        """The certificates that failed, each with its ``service`` ("imap", "smtp") and ``label``."""
        return [
            {**self.certificates[service], "service": service, "label": service.upper()}
            for service in ("imap", "smtp")
            if isinstance(self.certificates.get(service), dict)
        ]
