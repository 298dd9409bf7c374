"""The envelope cache: what the message lists need, copied from IMAP, which stays the truth.

A folder row remembers where the last sync stopped (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and the
lowest UID fetched so far); a summary row holds one message's envelope and flags.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SpecialUse(models.TextChoices):
    NONE = "", _("folder")
    INBOX = "inbox", _("Inbox")
    DRAFTS = "drafts", _("Drafts")
    SENT = "sent", _("Sent")
    JUNK = "junk", _("Junk")
    TRASH = "trash", _("Trash")
    ARCHIVE = "archive", _("Archive")


class Folder(models.Model):
    account = models.ForeignKey("accounts.MailAccount", on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=512)  # decoded from modified UTF-7
    delimiter = models.CharField(max_length=4, blank=True)
    special_use = models.CharField(max_length=10, choices=SpecialUse.choices, blank=True, default=SpecialUse.NONE)
    selectable = models.BooleanField(default=True)

    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uidnext = models.BigIntegerField(null=True, blank=True)
    highestmodseq = models.BigIntegerField(null=True, blank=True)
    # Messages below this UID are not cached yet (the backfill of a first sync goes downwards).
    backfill_below = models.BigIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    unread = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="folder_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_complete(self) -> bool:
        return self.synced_at is not None and not self.backfill_below

    @property
    def is_drafts(self) -> bool:
        """Where drafts live: the folder the server marks \\Drafts, or one named Drafts (the
        folder the outbox writes draft copies to, webmail.protocol.imap_drafts)."""
        return self.special_use == SpecialUse.DRAFTS or self.name == "Drafts"


class MessageSummary(models.Model):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="messages")
    uid = models.BigIntegerField()
    modseq = models.BigIntegerField(null=True, blank=True)
    seen = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False)
    answered = models.BooleanField(default=False)
    draft = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    from_name = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to = models.TextField(blank=True)  # "Name <addr>, ..." as shown
    cc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    has_attachments = models.BooleanField(default=False)
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    thread_key = models.CharField(max_length=255, blank=True, db_index=True)
    # The first words of the text, as the server makes them (FETCH PREVIEW, RFC 8970), for the list.
    preview = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-date", "-uid"]
        constraints = [models.UniqueConstraint(fields=["folder", "uid"], name="summary_unique_uid")]
        indexes = [
            models.Index(fields=["folder", "-date", "-uid"], name="summary_folder_date"),
            models.Index(fields=["folder", "-uid"], name="summary_folder_uid"),
            # Unread counts after every sync and action: a walk of the few unread rows, not of the folder.
            models.Index(fields=["folder"], condition=models.Q(seen=False), name="summary_folder_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.folder_id}:{self.uid} {self.subject[:40]}"


class RemoteImagesAllowed(models.Model):
    """A sender whose remote images a user chose to always see ("always for this sender").

    Counted only for messages whose sender the trust checks do not flag: see
    ``webmail.mailbox.trust.sender_for_images``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remote_images_allowed")
    address = models.CharField(max_length=320)  # the From address, normalized: see normalize()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["user", "address"], name="remote_images_unique_address")]
        verbose_name = _("sender with remote images allowed")
        verbose_name_plural = _("senders with remote images allowed")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.address}"

    def save(self, *args, **kwargs) -> None:
        self.address = self.normalize(self.address)
        super().save(*args, **kwargs)

    @staticmethod
    def normalize(address: str) -> str:
        return address.strip().lower()


class Correspondent(models.Model):
    """Someone a user wrote to or received mail from: the composer's address suggestions.

    Collected by ``webmail.mailbox.correspondents`` when a message is queued and when folders
    sync; ``rank`` orders them by a score mixing how often and how recently (see there).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="correspondents")
    address = models.CharField(max_length=320)  # normalized: see correspondents.normalize
    display_name = models.CharField(max_length=200, blank=True)
    times_written = models.PositiveIntegerField(default=0)
    times_received = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField()
    rank = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-rank"]
        constraints = [models.UniqueConstraint(fields=["user", "address"], name="correspondent_unique_address")]
        indexes = [models.Index(fields=["user", "-rank"], name="correspondent_user_rank")]
        verbose_name = _("correspondent")
        verbose_name_plural = _("correspondents")

    def __str__(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address


class Watch(models.Model):
    """Which mail watcher holds an IMAP connection in IDLE for an account (``webmail.mailbox.watcher``).

    A watcher takes a free or expired lease and renews it while it watches; one that dies lets
    its leases lapse and another takes the accounts over. ``not_before`` keeps every watcher
    off an account for a while (a server that refused more connections); ``refused_key`` off
    one whose password the server refused, until that password is changed.
    """

    account = models.OneToOneField(
        "accounts.MailAccount", on_delete=models.CASCADE, primary_key=True, related_name="watch"
    )
    owner = models.CharField(max_length=100, blank=True)  # host:pid:random of the watcher
    lease_until = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    refused_key = models.CharField(max_length=64, blank=True)  # see leases.password_key
    # A page of the account's user has its live stream open (views/live.py): watched until then,
    # even while the person only reads (which does not keep the session active).
    page_open_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mail watch")
        verbose_name_plural = _("mail watches")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.owner or '-'}"


class WatcherProcess(models.Model):
    """A mail watcher process that is running: it says so at every round of its lease loop, so
    that the others know how many share the accounts (``leases.cycle``) even while it holds none."""

    owner = models.CharField(max_length=100, primary_key=True)  # as Watch.owner
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("mail watcher")
        verbose_name_plural = _("mail watchers")

    def __str__(self) -> str:
        return self.owner
