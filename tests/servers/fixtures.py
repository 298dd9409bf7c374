"""pytest plugin with real mail servers; load it with ``pytest_plugins``.

Servers are started once per session (Dovecot takes a moment, and fresh ports
per test buy nothing); tests stay independent through unique accounts
(``mail_account``) and through ``smtp_server``/``smtps_server``, which reset
the shared SMTP servers before each test.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .celery_worker import SQLITE, CeleryWorker, database_url, publishing_to
from .certs import TestPKI, make_test_pki
from .dovecot import DOVECOT, Dovecot
from .net import free_port
from .smtpd import Mode, SMTPServer

__all__ = ["SMTP_PASSWORD", "SMTP_USER", "MailAccount", "free_port"]

SMTP_USER = "sender@example.test"
SMTP_PASSWORD = "submission-secret"


@dataclass(frozen=True)
class MailAccount:
    address: str
    password: str


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The CA every test client should trust, and the servers' certificate."""
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def untrusted_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """A second, unrelated CA: its certificates fail verification against ``pki``."""
    return make_test_pki(tmp_path_factory.mktemp("untrusted-pki"))


@pytest.fixture(scope="session")
def dovecot(pki: TestPKI) -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        # A silent skip would let CI go green without testing any IMAP code.
        pytest.fail(
            f"{DOVECOT} is missing: the IMAP tests need Dovecot. Run `make test`, which installs dovecot-imapd.",
            pytrace=False,
        )
    # Not under tmp_path: pytest makes that 0700, and Dovecot's unprivileged
    # processes must be able to reach their files.
    workdir = Path(tempfile.mkdtemp(prefix="webmail-dovecot-"))
    workdir.chmod(0o755)
    server = Dovecot(workdir, pki)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def mail_account(dovecot: Dovecot) -> MailAccount:
    """A fresh Dovecot account (empty mailboxes) for this test alone."""
    account = MailAccount(f"user-{uuid.uuid4().hex[:12]}@example.test", "imap-secret")
    dovecot.add_user(account.address, account.password)
    return account


def _smtp(pki: TestPKI, mode: Mode) -> Iterator[SMTPServer]:
    server = SMTPServer(pki, mode, {SMTP_USER: SMTP_PASSWORD})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_starttls(pki: TestPKI) -> Iterator[SMTPServer]:
    """Shared port-587-style server; prefer ``smtp_server``, which resets it."""
    yield from _smtp(pki, "starttls")


@pytest.fixture(scope="session")
def smtp_tls(pki: TestPKI) -> Iterator[SMTPServer]:
    """Shared port-465-style (implicit TLS) server; prefer ``smtps_server``."""
    yield from _smtp(pki, "tls")


@pytest.fixture(scope="session")
def smtp_untrusted(untrusted_pki: TestPKI) -> Iterator[SMTPServer]:
    """STARTTLS server whose certificate chains to ``untrusted_pki``, not ``pki``.

    Never reset: meant for "the client must refuse this server" tests only.
    """
    yield from _smtp(untrusted_pki, "starttls")


@pytest.fixture
def smtp_server(smtp_starttls: SMTPServer) -> SMTPServer:
    """The STARTTLS server with no messages and no scripted faults."""
    smtp_starttls.reset()
    return smtp_starttls


@pytest.fixture
def smtps_server(smtp_tls: SMTPServer) -> SMTPServer:
    """The implicit-TLS server with no messages and no scripted faults."""
    smtp_tls.reset()
    return smtp_tls


# -- Celery worker ----------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Extends pytest-django's: the SQLite test database is a file, which a Celery worker can open.

    pytest-django would keep it in memory, out of the worker process's reach. A file for every
    session, not only those with worker tests, so a test never depends on which others ran;
    it costs no measurable time. PostgreSQL needs nothing: the worker connects to test_<name>.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    test_settings = database.setdefault("TEST", {})
    if database["ENGINE"] == SQLITE and not test_settings.get("NAME"):
        test_settings["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test_webmail.sqlite3")


@pytest.fixture
def celery_worker(request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    """A started ``celery -A webmail worker`` on the test database, stopped after the test.

    ``delay()`` in the test publishes to it (the app is pointed at its broker and queue for
    the test). Transactional, because the worker sees only committed rows. Other
    ``CeleryWorker`` arguments by indirect parametrization, e.g.
    ``@pytest.mark.parametrize("celery_worker", [{"concurrency": 2}], indirect=True)``.
    """
    from django.db import connection

    options = getattr(request, "param", {})
    worker = CeleryWorker(tmp_path / "celery", database_url=database_url(connection.settings_dict), **options)
    with publishing_to(worker), worker:
        yield worker
