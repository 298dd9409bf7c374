from __future__ import annotations

import factory
from django.conf import settings

from accounts.models import Identity, MailAccount, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MailAccountFactory(factory.django.DjangoModelFactory):
    """A mail account; ``password=`` sets the (encrypted) IMAP password."""

    class Meta:
        model = MailAccount

    user = factory.SubFactory(UserFactory)
    label = "Work"
    imap_host = "127.0.0.1"
    smtp_host = "127.0.0.1"
    password = "mail-password"

    @classmethod
    def _create(cls, model_class, *args, password=None, **kwargs):
        account = model_class(*args, **kwargs)
        account.set_secret("imap_password", password or "")
        account.save()
        return account

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        kwargs.setdefault("imap_port", settings.WEBMAIL_IMAP_PORT)
        kwargs.setdefault("smtp_port", settings.WEBMAIL_SMTP_PORT)
        return kwargs


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    account = factory.SubFactory(MailAccountFactory)
    user = factory.SelfAttribute("account.user")
    address = factory.LazyAttribute(lambda o: o.user.email)
    display_name = factory.LazyAttribute(lambda o: o.user.full_name)


def account_on_test_servers(
    mail_account, dovecot, pki, *, smtp_host: str = "", smtp_port: int = 0, security: str = "starttls", **user_fields
):
    """A MailAccount (and its user, with ``user_fields``) for a fresh Dovecot user over implicit
    TLS, trusting the test CA; with ``smtp_host``, sending through that submission server."""
    user = UserFactory(email=mail_account.address, **user_fields)
    smtp = {"smtp_host": smtp_host, "smtp_port": smtp_port, "smtp_security": security} if smtp_host else {}
    return MailAccountFactory(
        user=user,
        password=mail_account.password,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_security="tls",
        ca_certificates=pki.ca_pem,
        **smtp,
    )


def user_on_test_servers(mail_account, dovecot, pki, *, smtp_host: str, smtp_port: int, security: str = "starttls"):
    """A user, their MailAccount on the test Dovecot and the given submission server (trusting
    the test CA), and a default identity for their address: someone who can read and send."""
    account = account_on_test_servers(
        mail_account,
        dovecot,
        pki,
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        security=security,
        full_name="Sally Sender",
    )
    user = account.user
    IdentityFactory(user=user, account=account, address=user.email, display_name=user.full_name)
    return user
