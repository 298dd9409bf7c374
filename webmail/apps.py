from django.apps import AppConfig


class WebmailConfig(AppConfig):
    name = "webmail"
    verbose_name = "Webmail"

    def ready(self) -> None:
        from webmail.protocol import imap_internals  # noqa: F401  registers its system check
