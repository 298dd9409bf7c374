"""The real-server fixtures do what the rest of the suite relies on."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable
from typing import TypeVar

import aiosmtplib
import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.servers.certs import TestPKI
from tests.servers.dovecot import SPECIAL_USE_FOLDERS, Dovecot
from tests.servers.fixtures import SMTP_PASSWORD, SMTP_USER, MailAccount
from tests.servers.smtpd import SMTPServer

T = TypeVar("T")
MESSAGE = b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: fixture check\r\n\r\nHello.\r\n"


def run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


# -- IMAP ---------------------------------------------------------------------


def test_imaps_login_trusting_the_test_ca(dovecot: Dovecot, pki: TestPKI, mail_account: MailAccount) -> None:
    with IMAPClient(dovecot.host, dovecot.imaps_port, ssl_context=pki.client_ssl_context(), timeout=10) as client:
        client.login(mail_account.address, mail_account.password)
        capabilities = set(client.capabilities())
    assert {b"CONDSTORE", b"QRESYNC", b"SPECIAL-USE", b"IDLE"} <= capabilities


def test_imap_requires_starttls_before_login(dovecot: Dovecot, pki: TestPKI, mail_account: MailAccount) -> None:
    plain = IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=10)
    try:
        assert {b"STARTTLS", b"LOGINDISABLED"} <= set(plain.capabilities())
        with pytest.raises(LoginError):
            plain.login(mail_account.address, mail_account.password)
    finally:
        plain.shutdown()

    with IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=10) as client:
        client.starttls(pki.client_ssl_context())
        client.login(mail_account.address, mail_account.password)
        assert b"LOGINDISABLED" not in client.capabilities()


def test_imap_certificate_from_another_ca_is_refused(dovecot: Dovecot, untrusted_pki: TestPKI) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, dovecot.imaps_port, ssl_context=untrusted_pki.client_ssl_context(), timeout=10)


def test_imap_wrong_password_is_rejected(dovecot: Dovecot, pki: TestPKI, mail_account: MailAccount) -> None:
    context = pki.client_ssl_context()
    with (
        IMAPClient(dovecot.host, dovecot.imaps_port, ssl_context=context, timeout=10) as client,
        pytest.raises(LoginError),
    ):
        client.login(mail_account.address, "not-the-password")


def test_password_change_while_running(dovecot: Dovecot, mail_account: MailAccount) -> None:
    dovecot.add_user(mail_account.address, "changed-secret")
    with dovecot.login(mail_account.address) as client:
        assert client.noop()


def test_special_use_folders_exist_and_are_subscribed(dovecot: Dovecot, mail_account: MailAccount) -> None:
    with dovecot.login(mail_account.address) as client:
        listed = {name: set(flags) for flags, _, name in client.list_folders()}
        subscribed = {name for _, _, name in client.list_sub_folders()}
    for name, flag in SPECIAL_USE_FOLDERS.items():
        assert flag.encode() in listed[name]
        assert name in subscribed


def test_deliver_and_read_back(dovecot: Dovecot, mail_account: MailAccount) -> None:
    inbox_uid = dovecot.deliver(mail_account.address, MESSAGE)
    sent_uid = dovecot.deliver(mail_account.address, MESSAGE, folder="Sent", flags=["\\Seen"])

    assert dovecot.mailbox_messages(mail_account.address) == [MESSAGE]
    assert dovecot.mailbox_messages(mail_account.address, "Sent") == [MESSAGE]
    with dovecot.login(mail_account.address) as client:
        client.select_folder("INBOX", readonly=True)
        assert b"\\Seen" not in client.get_flags([inbox_uid])[inbox_uid]
        client.select_folder("Sent", readonly=True)
        assert b"\\Seen" in client.get_flags([sent_uid])[sent_uid]


# -- SMTP ---------------------------------------------------------------------


async def _send(
    server: SMTPServer,
    pki: TestPKI,
    *,
    recipients: tuple[str, ...] = ("rcpt@example.test",),
    password: str = SMTP_PASSWORD,
) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    implicit = server.mode == "tls"
    async with aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=implicit,
        start_tls=not implicit,
        tls_context=pki.client_ssl_context(),
        timeout=5,
    ) as client:
        await client.login(SMTP_USER, password)
        return await client.sendmail(SMTP_USER, list(recipients), MESSAGE)


def test_starttls_submission_is_recorded(smtp_server: SMTPServer, pki: TestPKI) -> None:
    run(_send(smtp_server, pki))

    (received,) = smtp_server.wait_for(1)
    assert received.mail_from == SMTP_USER
    assert received.rcpt_tos == ["rcpt@example.test"]
    assert received.data == MESSAGE
    assert received.auth_login == SMTP_USER


def test_implicit_tls_submission(smtps_server: SMTPServer, pki: TestPKI) -> None:
    run(_send(smtps_server, pki))
    assert smtps_server.wait_for(1)[0].auth_login == SMTP_USER


def test_auth_before_starttls_is_refused(smtp_server: SMTPServer) -> None:
    async def attempt() -> aiosmtplib.SMTPResponse:
        async with aiosmtplib.SMTP(
            hostname=smtp_server.host, port=smtp_server.port, start_tls=False, timeout=5
        ) as client:
            await client.ehlo()
            assert "auth" not in client.esmtp_extensions
            credentials = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode())
            return await client.execute_command(b"AUTH", b"PLAIN", credentials)

    assert run(attempt()).code == 530


def test_wrong_password_gets_535(smtp_server: SMTPServer, pki: TestPKI) -> None:
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failure:
        run(_send(smtp_server, pki, password="wrong"))
    assert failure.value.code == 535


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("MAIL", aiosmtplib.SMTPSenderRefused),
        ("RCPT", aiosmtplib.SMTPRecipientsRefused),
        ("DATA", aiosmtplib.SMTPDataError),
    ],
)
def test_fail_next_then_success(smtp_server: SMTPServer, pki: TestPKI, command: str, error: type[Exception]) -> None:
    smtp_server.handler.fail_next(command, "451 4.3.0 try later", times=2)
    for _ in range(2):
        with pytest.raises(error, match="try later"):
            run(_send(smtp_server, pki))
    run(_send(smtp_server, pki))
    assert len(smtp_server.wait_for(1)) == 1


def test_rejected_recipient(smtp_server: SMTPServer, pki: TestPKI) -> None:
    smtp_server.handler.reject_recipient("nobody@example.test")
    refused, _ = run(_send(smtp_server, pki, recipients=("rcpt@example.test", "nobody@example.test")))

    assert refused["nobody@example.test"].code == 550
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["rcpt@example.test"]


def test_untrusted_certificate_is_refused(smtp_untrusted: SMTPServer, pki: TestPKI) -> None:
    with pytest.raises((ssl.SSLCertVerificationError, aiosmtplib.SMTPConnectError)):
        run(_send(smtp_untrusted, pki))
    assert smtp_untrusted.messages == []


def test_dsn_and_size_are_scriptable(smtp_server: SMTPServer, pki: TestPKI) -> None:
    async def extensions() -> dict[str, str]:
        async with aiosmtplib.SMTP(
            hostname=smtp_server.host, port=smtp_server.port, tls_context=pki.client_ssl_context(), timeout=5
        ) as client:
            await client.ehlo()
            return dict(client.esmtp_extensions)

    assert "dsn" in run(extensions())
    smtp_server.handler.advertise_dsn = False
    smtp_server.handler.size_limit = 1000
    offered = run(extensions())
    assert "dsn" not in offered
    assert offered["size"] == "1000"


def test_drop_after_data_and_stall(smtp_server: SMTPServer, pki: TestPKI) -> None:
    smtp_server.handler.drop_after_data()
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        run(_send(smtp_server, pki))
    assert smtp_server.messages == []
    assert len(smtp_server.handler.dropped) == 1

    smtp_server.handler.stall(0.3)
    run(_send(smtp_server, pki))
    assert len(smtp_server.wait_for(1)) == 1
