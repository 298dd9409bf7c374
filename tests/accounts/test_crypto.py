import base64
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import crypto
from accounts.models import MailAccount
from tests.factories import MailAccountFactory


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_it_round_trips_and_never_stores_plaintext():
    token = crypto.encrypt("hunter2 ünïcode", context="t:1:f")
    assert "hunter2" not in token
    assert token.startswith("v1.")
    assert crypto.decrypt(token, context="t:1:f") == "hunter2 ünïcode"


def test_each_encryption_uses_a_fresh_nonce():
    assert crypto.encrypt("same", context="c") != crypto.encrypt("same", context="c")


def test_it_refuses_a_tampered_ciphertext():
    token = crypto.encrypt("secret", context="c")
    prefix, payload = token.rsplit(".", 1)
    blob = bytearray(base64.b64decode(payload))
    blob[-1] ^= 0x01
    tampered = f"{prefix}.{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(crypto.SecretError, match="failed authentication"):
        crypto.decrypt(tampered, context="c")


def test_it_refuses_garbage():
    for token in ("", "v1.x", "v2.abc.AAAA", "v1.abc.not base64!"):
        with pytest.raises(crypto.SecretError):
            crypto.decrypt(token, context="c")


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_row_is_refused():
    first = MailAccountFactory(password="first-password")
    second = MailAccountFactory(password="second-password")
    MailAccount.objects.filter(pk=second.pk).update(imap_password=first.imap_password)
    second.refresh_from_db()
    with pytest.raises(crypto.SecretError):
        second.get_secret("imap_password")
    assert MailAccount.objects.get(pk=first.pk).get_secret("imap_password") == "first-password"


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_field_is_refused():
    account = MailAccountFactory(password="imap-password")
    account.smtp_password = account.imap_password
    with pytest.raises(crypto.SecretError):
        account.get_secret("smtp_password")


@pytest.mark.django_db
def test_rotation_re_encrypts_under_the_newest_key_and_keeps_values(settings):
    old_key = settings.WEBMAIL_SECRET_KEYS[0]
    account = MailAccountFactory(password="imap-pw")
    account.set_secret("smtp_password", "smtp-pw")
    account.save()
    before = MailAccount.objects.get(pk=account.pk)

    settings.WEBMAIL_SECRET_KEYS = [new_key(), old_key]
    assert not crypto.is_current(before.imap_password)
    call_command("rotate_secrets")

    after = MailAccount.objects.get(pk=account.pk)
    assert after.imap_password != before.imap_password
    assert crypto.is_current(after.imap_password) and crypto.is_current(after.smtp_password)
    settings.WEBMAIL_SECRET_KEYS = settings.WEBMAIL_SECRET_KEYS[:1]  # the old key is gone now
    assert after.get_secret("imap_password") == "imap-pw"
    assert after.get_secret("smtp_password") == "smtp-pw"


@pytest.mark.django_db
def test_a_secret_under_a_removed_key_fails_clearly(settings):
    account = MailAccountFactory(password="pw")
    settings.WEBMAIL_SECRET_KEYS = [new_key()]
    with pytest.raises(crypto.SecretError, match="no longer in WEBMAIL_SECRET_KEYS"):
        account.get_secret("imap_password")
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_secrets")
