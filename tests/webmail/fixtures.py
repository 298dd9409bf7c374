"""Fixtures of the webmail tests, imported by name by tests/webmail/conftest.py and
tests/browser/conftest.py."""

from __future__ import annotations

import pytest

from tests.factories import account_on_test_servers


@pytest.fixture
def reader(db, dovecot, mail_account, pki):
    """A MailAccount row for a fresh Dovecot user with empty mailboxes."""
    return account_on_test_servers(mail_account, dovecot, pki, full_name="Rita Reader")
