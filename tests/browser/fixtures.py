"""Fixtures of the browser tests, imported by name by tests/browser/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.helpers import Attacker


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    with Attacker() as server:
        yield server
