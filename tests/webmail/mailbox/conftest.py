"""Fixtures of the mailbox tests; defined in tests/webmail/mailbox/fixtures.py."""

from tests.webmail.mailbox.fixtures import closed_port, published, reader_client  # noqa: F401
