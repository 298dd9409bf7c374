import pytest

from accounts.models import Security
from tests.factories import MailAccountFactory, UserFactory


@pytest.fixture
def server_account(db, dovecot, smtp_server, mail_account, pki):
    """A MailAccount on the test Dovecot (implicit TLS) and the STARTTLS submission server,
    trusting the test CA; the IMAP username is left empty, so the login is the user's email."""
    smtp_server.add_user(mail_account.address, mail_account.password)
    user = UserFactory(email=mail_account.address)
    return MailAccountFactory(
        user=user,
        password=mail_account.password,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_security=Security.TLS,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security=Security.STARTTLS,
        ca_certificates=pki.ca_pem,
    )
