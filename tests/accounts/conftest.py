import pytest

from tests.factories import account_on_test_servers


@pytest.fixture
def server_account(db, dovecot, smtp_server, mail_account, pki):
    """A MailAccount on the test Dovecot (implicit TLS) and the STARTTLS submission server,
    trusting the test CA; the IMAP username is left empty, so the login is the user's email."""
    smtp_server.add_user(mail_account.address, mail_account.password)
    return account_on_test_servers(mail_account, dovecot, pki, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
