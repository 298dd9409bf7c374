from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import IdentityFactory, MailAccountFactory, user_on_test_servers
from tests.helpers import sign_in
from tests.servers.redis import RedisServer


@pytest.fixture
def private_redis():
    """A redis-server of the test's own, which it may kill and start again."""
    with RedisServer() as redis:
        yield redis


@pytest.fixture
def sender(transactional_db, dovecot, smtp_server, mail_account, pki, settings):
    """A user whose account points at the test Dovecot and the STARTTLS submission server.

    The undo window is off, so a message is due the moment it is stored.
    """
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    return user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)


@pytest.fixture
def writer(teammate):
    """The teammate, with a mail account and a sender address (no real servers behind it)."""
    account = MailAccountFactory(user=teammate)
    IdentityFactory(user=teammate, account=account, address=teammate.email, display_name="Tom Teammate")
    return teammate


@pytest.fixture
def writer_client(client, writer) -> Client:
    return sign_in(client, writer)
