"""Re-encrypt every stored mail password under the newest key in WEBMAIL_SECRET_KEYS.

Put the new key first in WEBMAIL_SECRET_KEYS, keep the old ones after it, run this, then
remove the old keys.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import SecretError
from accounts.models import MailAccount


class Command(BaseCommand):
    help = "Re-encrypt all stored secrets under the newest WEBMAIL_SECRET_KEYS key."

    def handle(self, *args, **options) -> None:
        rotated = failed = 0
        for pk in MailAccount.objects.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                account = MailAccount.objects.select_for_update().get(pk=pk)
                try:
                    changed = account.rotate_secrets()
                except SecretError as exc:
                    failed += 1
                    self.stderr.write(f"mail account {pk}: {exc}")
                    continue
                if changed:
                    account.save(update_fields=[*changed, "updated_at"])
                    rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} mail account(s).")
        if failed:
            raise CommandError(f"{failed} mail account(s) could not be decrypted with any configured key.")
