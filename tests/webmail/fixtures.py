"""Fixtures of the webmail tests, imported by name by tests/webmail/conftest.py and
tests/browser/conftest.py."""

from __future__ import annotations

import pytest

from accounts.models import Security
from tests.factories import MailAccountFactory, UserFactory


@pytest.fixture
def reader(db, dovecot, mail_account, pki):
    """A MailAccount row for a fresh Dovecot user with empty mailboxes."""
    user = UserFactory(email=mail_account.address, full_name="Rita Reader")
    return MailAccountFactory(
        user=user,
        password=mail_account.password,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_security=Security.TLS,
        ca_certificates=pki.ca_pem,
    )
