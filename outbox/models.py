"""Outgoing mail: the message as submitted, each recipient's fate, and every SMTP exchange.

A message is stored with its final bytes, waits until
``due_at`` (undo window or scheduled time), is claimed by one worker with a lease, and ends sent,
failed or cancelled; in between it may be deferred (retried at ``next_attempt_at``), held
(the account's SMTP password was refused) or uncertain (the worker died after the end of DATA,
so nobody knows whether the server took it; never resent without the user's say).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    DEFERRED = "deferred", _("deferred")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    HELD = "held", _("held")
    UNCERTAIN = "uncertain", _("uncertain")
    CANCELLED = "cancelled", _("cancelled")


# A worker may take these; everything else is either in flight or settled.
CLAIMABLE = (MessageState.QUEUED, MessageState.DEFERRED)
CANCELLABLE = (MessageState.QUEUED, MessageState.DEFERRED, MessageState.HELD)
FINAL = (MessageState.SENT, MessageState.FAILED, MessageState.CANCELLED)
# States that change without anyone doing anything: pages showing them keep polling.
IN_FLIGHT = (MessageState.QUEUED, MessageState.SENDING, MessageState.DEFERRED)


class Phase(models.TextChoices):
    """How far the current attempt got; what a crash means depends on it."""

    NONE = "", _("not started")
    ENVELOPE = "envelope", _("before data")
    DATA = "data", _("data sent")


class SentCopy(models.TextChoices):
    NOT_NEEDED = "", _("not needed")
    PENDING = "pending", _("pending")
    DONE = "done", _("saved")
    FAILED = "failed", _("failed")


class AnswerFlag(models.TextChoices):
    """What the message an answer is about gets on the server once the answer is sent."""

    ANSWERED = "\\Answered", _("answered")
    FORWARDED = "$Forwarded", _("forwarded")


class OutgoingMessageQuerySet(models.QuerySet["OutgoingMessage"]):
    def claimable(self, now: datetime) -> OutgoingMessageQuerySet:
        """Due messages a run may take, whatever their account's hold (on this table alone)."""
        return self.filter(state__in=CLAIMABLE, due_at__lte=now).filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )

    def due(self, now: datetime) -> OutgoingMessageQuerySet:
        """Claimable messages of accounts not on hold."""
        return self.claimable(now).filter(account__smtp_held_at__isnull=True)


class OutgoingMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outgoing_messages")
    account = models.ForeignKey("accounts.MailAccount", on_delete=models.CASCADE, related_name="outgoing_messages")
    identity = models.ForeignKey(
        "accounts.Identity", on_delete=models.SET_NULL, null=True, blank=True, related_name="outgoing_messages"
    )
    sender = models.EmailField(_("envelope sender"))
    message_id = models.CharField(_("Message-ID"), max_length=255, db_index=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    mime = models.BinaryField(_("message bytes"))
    size = models.PositiveIntegerField(_("size"))
    delivery_receipt = models.BooleanField(_("delivery receipt requested"), default=False)

    state = models.CharField(max_length=10, choices=MessageState.choices, default=MessageState.QUEUED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    scheduled = models.BooleanField(_("scheduled by the user"), default=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    expires_at = models.DateTimeField(_("give up after"))
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.NONE, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)

    resent_as = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text=_("its resend")
    )

    sent_copy = models.CharField(max_length=10, choices=SentCopy.choices, default=SentCopy.NOT_NEEDED, blank=True)
    sent_copy_attempts = models.PositiveSmallIntegerField(default=0)
    sent_copy_due_at = models.DateTimeField(null=True, blank=True)
    # The message this one answers (reply) or forwards, in the sender's mailbox: once this one is
    # sent, it is flagged answer_flag there (outbox.answered), as the SentCopy states say.
    answers_folder = models.ForeignKey(
        "webmail.Folder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answers_uid = models.BigIntegerField(null=True, blank=True)
    answer_flag = models.CharField(max_length=16, choices=AnswerFlag.choices, blank=True)
    answer_flag_state = models.CharField(
        max_length=10, choices=SentCopy.choices, default=SentCopy.NOT_NEEDED, blank=True
    )
    answer_flag_attempts = models.PositiveSmallIntegerField(default=0)
    answer_flag_due_at = models.DateTimeField(null=True, blank=True)

    objects = OutgoingMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="outgoing_state_due"),
            models.Index(fields=["account", "state"], name="outgoing_account_state"),
            # A run's claims: an account's claimable messages in due order, the next batch only.
            models.Index(
                fields=["account", "due_at"], condition=models.Q(state__in=CLAIMABLE), name="outgoing_claimable"
            ),
            models.Index(fields=["user", "created_at"], name="outgoing_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} [{self.state}]"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    @property
    def can_cancel(self) -> bool:
        return self.state in CANCELLABLE

    def in_undo_window(self, now: datetime) -> bool:
        """Waiting out the sender's undo window (not scheduled): Undo still brings it back."""
        return self.state == MessageState.QUEUED and not self.scheduled and self.due_at > now

    @property
    def can_retry_now(self) -> bool:
        return self.state in (MessageState.DEFERRED, MessageState.QUEUED)

    @property
    def can_resend(self) -> bool:
        if self.resent_as_id is not None:
            return False
        return self.state == MessageState.UNCERTAIN or (
            self.is_final and self.recipients.filter(state=RecipientState.REJECTED).exists()
        )


class RecipientKind(models.TextChoices):
    TO = "to", _("To")
    CC = "cc", _("Cc")
    BCC = "bcc", _("Bcc")


class RecipientState(models.TextChoices):
    PENDING = "pending", _("pending")
    ACCEPTED = "accepted", _("accepted by the server")
    DEFERRED = "deferred", _("deferred")
    REJECTED = "rejected", _("rejected")
    # From delivery status notifications, after acceptance.
    DELIVERED = "delivered", _("delivered")
    DELAYED = "delayed", _("delayed")
    BOUNCED = "bounced", _("bounced")


# Recipients a new attempt sends to; the others are settled.
UNSETTLED = (RecipientState.PENDING, RecipientState.DEFERRED)


class Recipient(models.Model):
    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="recipients")
    address = models.CharField(_("address"), max_length=320)
    display_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=3, choices=RecipientKind.choices)
    state = models.CharField(max_length=10, choices=RecipientState.choices, default=RecipientState.PENDING)
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    enhanced_code = models.CharField(max_length=16, blank=True)
    reply = models.CharField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "address"], name="recipient_unique_per_message"),
        ]

    def __str__(self) -> str:
        return self.address


class Step(models.TextChoices):
    CONNECT = "connect", _("connect")
    TLS = "tls", _("TLS")
    AUTH = "auth", _("authentication")
    MAIL = "mail", _("MAIL FROM")
    RCPT = "rcpt", _("RCPT TO")
    DATA = "data", _("DATA")
    SIZE = "size", _("size check")


class DeliveryAttempt(models.Model):
    """One SMTP exchange about a message, with the server's words as it said them."""

    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    recipient = models.ForeignKey(
        Recipient, on_delete=models.CASCADE, null=True, blank=True, related_name="delivery_attempts"
    )
    attempt = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    step = models.CharField(max_length=10, choices=Step.choices)
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    enhanced_code = models.CharField(max_length=16, blank=True)
    reply = models.CharField(max_length=1000, blank=True)
    tls_version = models.CharField(max_length=16, blank=True)
    tls_cipher = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.step} {self.code or ''} {self.reply[:40]}"


class Doorbell(models.Model):
    """When a doorbell for an account's due mail was last published and not yet answered.

    While one is on its way, publishing another would only make a worker find the mail already
    taken: a burst of sends from one account rings once. A worker clears the row before it looks
    for due mail, so anything stored after that rings again; a doorbell lost with the broker
    stops holding back new ones after half a minute (and the sweeper finds its mail meanwhile).
    """

    account = models.OneToOneField(
        "accounts.MailAccount", on_delete=models.CASCADE, primary_key=True, related_name="doorbell"
    )
    rung_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"doorbell of {self.account_id}: {self.rung_at or 'quiet'}"


class DraftState(models.TextChoices):
    OPEN = "open", _("open")
    DISCARDED = "discarded", _("discarded")  # kept a while for undo; its IMAP copy is removed
    SENT = "sent", _("sent")  # queued as a message; removed with its IMAP copy


class SavedDraft(models.Model):
    """What a composer holds, saved as it is typed (outbox.drafts), and its copy in the account's
    IMAP Drafts folder (outbox.draftcopy). The database is the truth; the copy catches up.

    ``revision`` grows with every save; a save names the revision it was based on, and one based
    on an older revision than the row's is refused (two tabs, a late save). The copy is current
    when ``mirrored_revision == revision``; ``mirror_due_at`` says when to try again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    identity = models.ForeignKey(
        "accounts.Identity", on_delete=models.SET_NULL, null=True, blank=True, related_name="drafts"
    )
    state = models.CharField(max_length=10, choices=DraftState.choices, default=DraftState.OPEN)
    # The fields as typed: checked when the message is sent, not when the draft is saved.
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)  # sanitized, when written in rich text
    delivery_receipt = models.BooleanField(default=False)
    send_at = models.DateTimeField(null=True, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    answers_folder = models.ForeignKey(
        "webmail.Folder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answers_uid = models.BigIntegerField(null=True, blank=True)
    how = models.CharField(max_length=10, blank=True)

    revision = models.PositiveIntegerField(default=0)
    # The composer page that saved last, and the number of that save: a page's own saves never
    # conflict with each other (one sent as the tab closes may overtake one in flight), and an
    # older one of them arriving late changes nothing.
    page_token = models.CharField(max_length=64, blank=True)
    page_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_as = models.ForeignKey(OutgoingMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    # The IMAP copy: where it is, and which revision it holds.
    mirror_account = models.ForeignKey(
        "accounts.MailAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mirror_folder = models.CharField(max_length=512, blank=True)
    mirror_uid = models.BigIntegerField(null=True, blank=True)
    mirror_uidvalidity = models.BigIntegerField(null=True, blank=True)  # of mirror_folder, when mirror_uid was read
    mirrored_revision = models.PositiveIntegerField(default=0)
    mirror_due_at = models.DateTimeField(null=True, blank=True)
    mirror_attempts = models.PositiveSmallIntegerField(default=0)
    mirror_claimed_until = models.DateTimeField(null=True, blank=True)
    mirror_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["user", "state", "updated_at"], name="draft_user_state"),
            models.Index(
                fields=["mirror_due_at"], condition=models.Q(mirror_due_at__isnull=False), name="draft_mirror_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} [draft {self.state}, r{self.revision}]"


class DraftAttachment(models.Model):
    """A file attached to a draft: uploaded once, kept until the draft is sent or purged."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(SavedDraft, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename
