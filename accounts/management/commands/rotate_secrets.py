"""Re-encrypt every stored secret (mail passwords, authenticator keys, backup codes) under the
newest key in WEBMAIL_SECRET_KEYS.

Put the new key first in WEBMAIL_SECRET_KEYS, keep the old ones after it, run this, then
remove the old keys.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import SecretError
from accounts.models import AuthenticatorDevice, BackupCode, MailAccount

# What holds secrets, and the extra fields a re-encrypted row also updates.
SEALED = (
    (MailAccount, "mail account", ("updated_at",)),
    (AuthenticatorDevice, "authenticator", ()),
    (BackupCode, "backup code", ()),
)


class Command(BaseCommand):
    help = "Re-encrypt all stored secrets under the newest WEBMAIL_SECRET_KEYS key."

    def handle(self, *args, **options) -> None:
        failed = 0
        for model, name, also in SEALED:
            rotated = 0
            for pk in model.objects.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    row = model.objects.select_for_update().get(pk=pk)
                    try:
                        changed = row.rotate_secrets()
                    except SecretError as exc:
                        failed += 1
                        self.stderr.write(f"{name} {pk}: {exc}")
                        continue
                    if changed:
                        row.save(update_fields=[*changed, *also])
                        rotated += 1
            self.stdout.write(f"Re-encrypted {rotated} {name}(s).")
        if failed:
            raise CommandError(f"{failed} secret(s) could not be decrypted with any configured key.")
