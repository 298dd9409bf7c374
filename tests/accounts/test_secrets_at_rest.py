"""No secret at rest or in a log: after a person signs in with a password and a second factor,
an admin stores their mail passwords, a connection test fails and one succeeds, and a message
goes out through a real worker to an authenticating SMTP server and into the IMAP Sent folder,
none of the secrets involved is found in the database (every row of every table, and the
SQLite files themselves), the broker's files, the task messages, or any log."""

from __future__ import annotations

import base64
import logging
import re
import secrets
from pathlib import Path

import pytest
from celery.signals import before_task_publish
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from accounts.models import MailAccount
from outbox.models import MessageState, OutgoingMessage
from outbox.tasks import sweep
from tests.factories import IdentityFactory, UserFactory
from tests.helpers import sign_in
from tests.outbox.helpers import queue_message, until
from tests.servers.celery_worker import CeleryWorker, database_url, publishing_to
from tests.servers.net import free_port


def database_text() -> str:
    """Every row of every table, as text, plus the SQLite files byte for byte where there are some."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        for path in (name, name.with_name(name.name + "-wal")):
            if path.exists():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def files_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def forms_of(secret: str) -> set[str]:
    """A secret as it may be written down: plain, hex, and as SMTP AUTH or IMAP would send it."""
    return {secret, secret.encode().hex(), base64.b64encode(secret.encode()).decode()}


def secrets_found(text: str, named: dict[str, str]) -> list[str]:
    return [name for name, secret in named.items() for form in forms_of(secret) if form in text]


@pytest.fixture
def published():
    """Every task message this process publishes: what a broker would hold."""
    seen: list[str] = []

    def record(body=None, headers=None, **_kwargs):
        seen.append(repr(body) + repr(headers))

    before_task_publish.connect(record, weak=False)
    yield seen
    before_task_publish.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_no_secret_reaches_the_database_the_broker_or_a_log(
    dovecot, smtp_server, pki, tmp_path, caplog, published, settings
):
    caplog.set_level(logging.DEBUG)
    login_password = "login-" + secrets.token_urlsafe(12)
    imap_password = "imap-" + secrets.token_urlsafe(12)
    smtp_password = "smtp-" + secrets.token_urlsafe(12)
    address = f"keeper-{secrets.token_hex(4)}@example.test"
    dovecot.add_user(address, imap_password)
    smtp_server.add_user(address, smtp_password)
    user = UserFactory(email=address, full_name="Kim Keeper")
    user.set_password(login_password)
    user.save()
    admin = UserFactory(email=f"admin-{secrets.token_hex(4)}@example.test", is_staff=True, is_superuser=True)

    # The person signs in and enrols a second factor; a second session uses a backup code.
    person = Client()
    response = person.post(reverse("accounts:login"), {"username": address, "password": login_password})
    assert response.status_code == 302
    setup = person.get(reverse("accounts:setup"))
    shown = re.search(rb'<code id="totp-secret">([A-Z2-7 ]+)</code>', setup.content).group(1).decode()
    key = base64.b32decode(shown.replace(" ", "") + "=" * (-len(shown.replace(" ", "")) % 8))
    confirmed = person.post(reverse("accounts:setup"), {"token": f"{totp(key):06d}"})
    codes = [c.decode() for c in re.findall(rb"<li><code>([a-z0-9]+)</code></li>", confirmed.content)]
    assert len(codes) == 10
    other = Client()
    other.post(reverse("accounts:login"), {"username": address, "password": login_password})
    assert other.post(reverse("accounts:verify"), {"token": codes[0]}).status_code == 302

    # The admin stores the mail passwords through the admin's form.
    staff = Client()
    sign_in(staff, admin)
    response = staff.post(
        reverse("admin:accounts_mailaccount_add"),
        {
            "user": user.pk,
            "label": "Work",
            "imap_host": dovecot.host,
            "imap_port": dovecot.imaps_port,
            "imap_security": "tls",
            "imap_username": "",
            "new_imap_password": imap_password,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "starttls",
            "smtp_username": "",
            "new_smtp_password": smtp_password,
            "ca_certificates": pki.ca_pem,
            "trusted_certificate_sha256": "",
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
            "connection_checks-TOTAL_FORMS": "0",
            "connection_checks-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = MailAccount.objects.get(user=user)
    IdentityFactory(user=user, account=account, address=address, display_name="Kim Keeper")

    # A connection test that succeeds, and one against a server that is not there.
    test_url = reverse("accounts:test_connection", args=[account.pk])
    assert person.post(test_url).status_code == 302
    good = account.connection_checks.get()
    assert good.ok, (good.imap_message, good.smtp_message)
    MailAccount.objects.filter(pk=account.pk).update(imap_port=free_port(), smtp_port=free_port())
    assert person.post(test_url).status_code == 302
    MailAccount.objects.filter(pk=account.pk).update(imap_port=dovecot.imaps_port, smtp_port=smtp_server.port)

    # A message goes out through a real worker, and its copy into Sent over IMAP.
    worker = CeleryWorker(
        tmp_path / "worker",
        database_url=database_url(connection.settings_dict),
        env={"WEBMAIL_UNDO_SECONDS": "0", "WEBMAIL_LOG_LEVEL": "DEBUG"},
        redis_url="",  # the filesystem broker, so that its files can be read afterwards
    )
    settings.WEBMAIL_UNDO_SECONDS = 0
    with publishing_to(worker), worker:
        message = queue_message(user, to="friend@example.test", subject="Hello", body="Hi")
        until(lambda: OutgoingMessage.objects.get(pk=message.pk).state == MessageState.SENT, timeout=30)
        sweep.delay()  # what beat does every minute: it hands the Sent copy to the worker
        until(lambda: OutgoingMessage.objects.get(pk=message.pk).sent_copy == "done", timeout=30)
    assert smtp_server.messages, "the message was not delivered"

    named = {
        "login password": login_password,
        "IMAP password": imap_password,
        "SMTP password": smtp_password,
        "TOTP key (hex)": key.hex(),
        "TOTP key (base32)": base64.b32encode(key).decode().rstrip("="),
        "TOTP key (as shown)": shown,
        **{f"backup code {i}": code for i, code in enumerate(codes)},
    }
    assert secrets_found(database_text(), named) == []
    assert secrets_found(files_text(worker.var_dir), named) == []
    assert secrets_found("\n".join(published), named) == []
    assert published, "no task was published: the broker check checked nothing"
    assert secrets_found(caplog.text, named) == []
    assert "ready." in worker.log_text(), "the worker wrote no log to check"
    assert secrets_found(worker.log_text(), named) == []
