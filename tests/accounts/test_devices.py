"""The second-factor secrets at rest: sealed, bound to their rows, rotated, and converted from
django-otp's plaintext plugin tables."""

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_otp.oath import totp

from accounts import crypto, twofactor
from accounts.models import AuthenticatorDevice, BackupCode, BackupCodeDevice
from tests.factories import UserFactory
from tests.helpers import current_code, enrol_totp


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def all_rows_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return repr(cursor.fetchall())


@pytest.mark.django_db
def test_the_authenticator_key_is_stored_sealed(teammate):
    device = enrol_totp(teammate)
    key = device.bin_key
    stored = all_rows_text(AuthenticatorDevice._meta.db_table)
    for form in (key.hex(), key.hex().upper(), base64.b32encode(key).decode().rstrip("=")):
        assert form not in stored
    assert device.sealed_key.startswith("v1.")
    assert AuthenticatorDevice.objects.get(pk=device.pk).verify_token(current_code(device))


@pytest.mark.django_db
def test_a_sealed_key_copied_to_another_device_does_not_open(teammate, stranger):
    device, other = enrol_totp(teammate), enrol_totp(stranger)
    other.sealed_key = device.sealed_key
    with pytest.raises(crypto.SecretError):
        _ = other.bin_key


@pytest.mark.django_db
def test_backup_codes_are_stored_sealed_and_work_once(teammate):
    codes = twofactor.new_backup_codes(teammate)
    stored = all_rows_text(BackupCode._meta.db_table)
    assert not any(code in stored for code in codes)
    device = BackupCodeDevice.objects.get(user=teammate)
    assert device.verify_token(codes[3])
    assert not device.verify_token(codes[3])
    assert twofactor.backup_codes_left(teammate) == len(codes) - 1


@pytest.mark.django_db
def test_rotation_re_seals_second_factor_secrets(teammate, settings):
    device = enrol_totp(teammate)
    key = device.bin_key
    codes = twofactor.new_backup_codes(teammate)
    old_key = settings.WEBMAIL_SECRET_KEYS[0]
    settings.WEBMAIL_SECRET_KEYS = [new_key(), old_key]
    call_command("rotate_secrets")
    settings.WEBMAIL_SECRET_KEYS = settings.WEBMAIL_SECRET_KEYS[:1]  # the old key is gone now
    device = AuthenticatorDevice.objects.get(pk=device.pk)
    assert crypto.is_current(device.sealed_key) and device.bin_key == key
    assert sorted(code.plaintext() for code in BackupCode.objects.filter(device__user=teammate)) == sorted(codes)


OLD_TABLES_SQL = [
    "CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY, user_id bigint NOT NULL, name varchar(64),"
    " confirmed boolean, key varchar(80), step integer, t0 bigint, digits integer, tolerance integer,"
    " drift integer, last_t bigint)",
    "CREATE TABLE otp_static_staticdevice (id integer PRIMARY KEY, user_id bigint NOT NULL, name varchar(64),"
    " confirmed boolean)",
    "CREATE TABLE otp_static_statictoken (id integer PRIMARY KEY, device_id integer NOT NULL, token varchar(16))",
]


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_devices_of_django_otps_plugins_and_drops_their_tables():
    """An installation enrolled under django-otp's plaintext plugins keeps its authenticators and
    unused backup codes, sealed, and the plaintext tables are gone."""
    user = UserFactory(email="early@example.test")
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    key = os.urandom(20)
    with connection.cursor() as cursor:
        for statement in OLD_TABLES_SQL:
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES (7, %s, 'Phone', %s, %s, 30, 0, 6, 1, 0, -1)",
            [user.pk, True, key.hex()],
        )
        cursor.execute("INSERT INTO otp_static_staticdevice VALUES (3, %s, 'Backup codes', %s)", [user.pk, True])
        cursor.execute("INSERT INTO otp_static_statictoken VALUES (1, 3, 'abcd2345'), (2, 3, 'efgh6723')")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    remaining = set(connection.introspection.table_names())
    assert not {"otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"} & remaining
    device = AuthenticatorDevice.objects.get(user=user)
    assert (device.name, device.confirmed, device.bin_key) == ("Phone", True, key)
    assert key.hex() not in all_rows_text(AuthenticatorDevice._meta.db_table)
    assert device.verify_token(f"{totp(key):06d}")
    assert twofactor.verify(user, "abcd2345").outcome is twofactor.CodeResult.OK
    assert twofactor.backup_codes_left(user) == 1
    assert "efgh6723" not in all_rows_text(BackupCode._meta.db_table)
