"""pytest plugin with a real Postfix in front of the session's Dovecot; load it with ``pytest_plugins``.

Needs the ``pki`` and ``dovecot`` fixtures of ``tests.servers.fixtures``. One Postfix per
session, started on first use; tests stay independent through unique Dovecot accounts
(``mail_account``, or ``dovecot.add_user``), which Postfix accepts mail for at once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .certs import TestPKI
from .dovecot import Dovecot
from .postfix import Postfix, PostfixError, check_installed

__all__ = ["Postfix"]


@pytest.fixture(scope="session")
def postfix(pki: TestPKI, dovecot: Dovecot) -> Iterator[Postfix]:
    """Postfix's submission port on 127.0.0.1: STARTTLS, AUTH against ``dovecot``'s users,
    no relaying without AUTH; mail for example.test is delivered into ``dovecot`` over LMTP."""
    try:
        check_installed()
    except PostfixError as error:
        # A silent skip would let CI go green without the end-to-end tests.
        pytest.fail(f"The Postfix tests cannot run: {error}", pytrace=False)
    if dovecot.lmtp_socket_path is None:
        pytest.fail(
            "Dovecot has no LMTP (dovecot-lmtpd is missing), so Postfix cannot deliver into it. "
            "Run `make test`, which installs it.",
            pytrace=False,
        )
    # Not under tmp_path: pytest makes that 0700, and Postfix's unprivileged daemons
    # must be able to reach their queue.
    workdir = Path(tempfile.mkdtemp(prefix="webmail-postfix-"))
    workdir.chmod(0o755)
    server = Postfix(workdir, pki, sasl_socket=dovecot.auth_socket_path, lmtp_socket=dovecot.lmtp_socket_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
