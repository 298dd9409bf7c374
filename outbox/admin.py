"""The queue as the administrator sees it: read-only, changed only through the two actions.

The message bytes are never shown: an administrator needs to see where a message is stuck,
not what it says.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox import delivery, tasks
from outbox.models import DeliveryAttempt, OutgoingMessage, Recipient


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the message: whoever may see the message sees these.
        opts = OutgoingMessage._meta
        return any(request.user.has_perm(f"{opts.app_label}.{p}_{opts.model_name}") for p in ("view", "change"))


class RecipientInline(ReadOnlyInline):
    model = Recipient
    fields = ("address", "display_name", "kind", "state", "code", "enhanced_code", "reply", "updated_at")
    readonly_fields = fields


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = (
        "started_at",
        "attempt",
        "step",
        "recipient",
        "code",
        "enhanced_code",
        "reply",
        "tls_version",
        "tls_cipher",
        "duration_ms",
    )
    readonly_fields = fields
    verbose_name_plural = _("SMTP exchanges")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    list_display = ("subject_or_placeholder", "user", "state", "created_at", "due_at", "next_attempt_at", "attempts")
    list_filter = ("state", "scheduled", "sent_copy")
    list_select_related = ("user",)
    search_fields = ("subject", "message_id", "user__email")
    date_hierarchy = "created_at"
    inlines = [RecipientInline, DeliveryAttemptInline]
    actions = ["retry_now", "cancel"]
    exclude = ("mime",)
    fieldsets = (
        (None, {"fields": ("subject", "user", "account", "identity", "sender", "message_id", "size_display")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "state",
                    "created_at",
                    "due_at",
                    "scheduled",
                    "next_attempt_at",
                    "expires_at",
                    "attempts",
                    "sent_at",
                    "last_error",
                    "delivery_receipt",
                )
            },
        ),
        (_("Worker"), {"classes": ("collapse",), "fields": ("lease_owner", "lease_until", "phase")}),
        (_("Copy in Sent"), {"fields": ("sent_copy", "sent_copy_attempts", "sent_copy_due_at")}),
    )
    # Everything is read-only: a message changes only through the actions.
    readonly_fields = tuple(name for _title, options in fieldsets for name in options["fields"])

    def get_queryset(self, request):
        # Never load the bytes, not even for the list.
        return super().get_queryset(request).defer("mime")

    @admin.display(description=_("subject"), ordering="subject")
    def subject_or_placeholder(self, obj: OutgoingMessage) -> str:
        return obj.subject or _("(no subject)")

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: OutgoingMessage) -> str:
        return filesizeformat(obj.size)

    # Read-only: nobody adds, edits or deletes a message here; the actions are the only changes.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Whether the actions are offered: whoever holds the model's change permission."""
        return super().has_change_permission(request)

    @admin.action(description=_("Retry now"), permissions=["operate"])
    def retry_now(self, request: HttpRequest, queryset) -> None:
        selected = list(queryset.select_related(None).only("pk"))
        retried = [str(m.pk) for m in selected if delivery.retry_now(m)]
        transaction.on_commit(lambda: tasks.ring_each(retried))
        self._report(request, len(retried), len(selected), "retry")

    @admin.action(description=_("Cancel"), permissions=["operate"])
    def cancel(self, request: HttpRequest, queryset) -> None:
        selected = list(queryset.select_related(None).only("pk"))
        cancelled = sum(1 for m in selected if delivery.cancel(m))
        self._report(request, cancelled, len(selected), "cancel")

    def _report(self, request: HttpRequest, applied: int, selected: int, what: str) -> None:
        if what == "retry":
            text = ngettext(
                "%(count)d message queued to be sent now.", "%(count)d messages queued to be sent now.", applied
            )
        else:
            text = ngettext("%(count)d message cancelled.", "%(count)d messages cancelled.", applied)
        text %= {"count": applied}
        level = messages.SUCCESS
        if applied < selected:
            skipped = ngettext(
                "%(count)d was skipped: it was not waiting to be sent.",
                "%(count)d were skipped: they were not waiting to be sent.",
                selected - applied,
            ) % {"count": selected - applied}
            text = f"{text} {skipped}"
            level = messages.WARNING
        self.message_user(request, text, level)
