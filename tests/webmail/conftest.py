"""Fixtures of the webmail tests; defined in tests/webmail/fixtures.py."""

from tests.webmail.fixtures import reader  # noqa: F401
