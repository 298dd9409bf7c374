from __future__ import annotations

import pytest

from accounts.models import Identity
from outbox.compose import Draft, enqueue, parse_addresses
from tests.factories import user_on_test_servers


@pytest.fixture
def sender(transactional_db, dovecot, smtp_server, mail_account, pki, settings):
    """A user whose account points at the test Dovecot and the STARTTLS submission server.

    The undo window is off, so a message is due the moment it is stored.
    """
    settings.WEBMAIL_UNDO_SECONDS = 0
    smtp_server.add_user(mail_account.address, mail_account.password)
    return user_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)


def identity_of(user) -> Identity:
    return Identity.objects.get(user=user, is_default=True)


def queue_message(user, to="rcpt@example.test", **fields):
    draft = Draft(identity=identity_of(user), to=parse_addresses(to), **fields)
    if isinstance(fields.get("cc"), str):
        draft.cc = parse_addresses(fields["cc"])
    return enqueue(user, draft)
