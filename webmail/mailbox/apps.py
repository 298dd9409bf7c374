from django.apps import AppConfig


class WebmailConfig(AppConfig):
    name = "webmail.mailbox"
    label = "webmail"  # the label the tables, migrations and permissions were made under
    verbose_name = "Webmail"

    def ready(self) -> None:
        from webmail.protocol import imap_internals  # noqa: F401  registers its system check
