"""Settings come from the environment, fail loudly on bad values, and are safe in production."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.servers.process import local_install
from webmail import env

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.b64encode(os.urandom(32)).decode()
PRODUCTION = {
    "WEBMAIL_DEBUG": "0",
    "SECRET_KEY": "x" * 60 + "production-secret-key-for-the-check",
    "WEBMAIL_SECRET_KEYS": KEY,
    "ALLOWED_HOSTS": "mail.example.test",
}


def manage(*args: str, extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("WEBMAIL_", "SECRET_KEY", "ALLOWED_"))}
    environment.update({"WEBMAIL_VAR_DIR": str(tmp_path), **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "WEBMAIL_SECRET_KEYS", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_setting(tmp_path, missing):
    settings = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", extra_env=settings, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_the_missing_key_message_says_how_to_make_one(tmp_path):
    settings = {k: v for k, v in PRODUCTION.items() if k != "WEBMAIL_SECRET_KEYS"}
    result = manage("check", extra_env=settings, tmp_path=tmp_path)
    assert "os.urandom(32)" in result.stderr


def test_a_malformed_secret_key_is_refused_with_its_position(tmp_path):
    result = manage("check", extra_env={**PRODUCTION, "WEBMAIL_SECRET_KEYS": f"{KEY},short"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "key 2 is not base64 of 32 random bytes" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(KEY + "\n")
    settings = {k: v for k, v in PRODUCTION.items() if k != "WEBMAIL_SECRET_KEYS"}
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.WEBMAIL_SECRET_KEYS[0])",
        extra_env={**settings, "WEBMAIL_SECRET_KEYS_FILE": str(key_file)},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == KEY


def test_env_helpers_name_the_variable_on_a_bad_value(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env.env_bool("SOME_FLAG", True)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER must be a whole number"):
        env.env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("SOME_NUMBER", 1, minimum=1)
    monkeypatch.setenv("SOME_CHOICE", "ssl")
    with pytest.raises(ImproperlyConfigured, match="one of tls, starttls, none"):
        env.env_choice("SOME_CHOICE", "tls", ("tls", "starttls", "none"))


def test_env_secret_refuses_both_the_value_and_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("A_SECRET", "x")
    monkeypatch.setenv("A_SECRET_FILE", str(tmp_path / "nope"))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.env_secret("A_SECRET")
    monkeypatch.delenv("A_SECRET")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.env_secret("A_SECRET")


def run_local(code: str, tmp_path: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``code`` in `manage.py shell` of such an install, with the usual umask (files 0644 unless
    the code says otherwise)."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**local_install(tmp_path), **(extra_env or {})},
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_filesystem_broker_connects_without_a_hostname_warning(tmp_path):
    code = (
        "import logging, sys\n"
        "logging.getLogger('kombu').addHandler(logging.StreamHandler(sys.stderr))\n"
        "from webmail.celery import app\n"
        "with app.connection_for_write() as connection:\n"
        "    connection.ensure_connection(max_retries=1)\n"
        "    print(connection.transport_cls, connection.info()['hostname'])\n"
        "with app.producer_or_acquire() as producer:\n"
        "    print('producer', producer.connection.info()['hostname'])\n"
    )
    result = run_local(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "filesystem localhost" in result.stdout
    assert "No hostname was supplied" not in result.stderr


def test_local_state_is_for_this_user_only(tmp_path):
    """var/, the SQLite database and its WAL, the keys and the broker's folders: no access for
    group or others, whatever the umask."""
    code = (
        "import os\n"
        "from django.core.management import call_command\n"
        "from django.db import connection\n"
        "call_command('migrate', verbosity=0)\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE probe (x)')\n"  # writes go to the WAL until a checkpoint
        "    print(cursor.execute('PRAGMA journal_mode').fetchone()[0])\n"
        "var = os.environ['WEBMAIL_VAR_DIR']\n"
        "for root, folders, files in os.walk(var):\n"
        "    for name in ['', *folders, *files]:\n"
        "        path = os.path.join(root, name)\n"
        "        print(oct(os.stat(path).st_mode & 0o777), os.path.relpath(path, var))\n"
    )
    result = run_local(code, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "wal"
    modes = dict(reversed(line.split(" ", 1)) for line in lines[1:])
    assert {"webmail.sqlite3", "webmail.sqlite3-wal", "secret_key", "secret_keys", "broker/queue"} <= set(modes)
    wider = {path: mode for path, mode in modes.items() if int(mode, 8) & 0o077}
    assert wider == {}
    assert modes["."] == "0o700"
    assert modes["webmail.sqlite3"] == "0o600"


def test_an_older_install_is_tightened_on_start(tmp_path):
    var = tmp_path / "var"
    (var / "broker" / "queue").mkdir(parents=True)
    for path in (var, var / "broker", var / "broker" / "queue"):
        path.chmod(0o755)
    for name in ("webmail.sqlite3", "webmail.sqlite3-wal", "webmail.sqlite3-shm"):
        (var / name).write_bytes(b"")
        (var / name).chmod(0o644)
    result = run_local("print('started')", tmp_path)
    assert result.returncode == 0, result.stderr
    assert {oct(p.stat().st_mode & 0o777) for p in (var, var / "broker", var / "broker" / "queue")} == {"0o700"}
    assert {
        oct((var / n).stat().st_mode & 0o777) for n in ("webmail.sqlite3", "webmail.sqlite3-wal", "webmail.sqlite3-shm")
    } == {"0o600"}


CACHE_SETTINGS = (
    "from django.conf import settings; from django.core.cache import cache\n"
    "c = settings.CACHES['default']\n"
    "print(c['BACKEND'], c.get('LOCATION'), c.get('KEY_PREFIX', '-'), c.get('OPTIONS', {}).get('MAX_ENTRIES'))\n"
)


def test_without_redis_each_process_has_a_bounded_cache_of_its_own(tmp_path):
    result = run_local(CACHE_SETTINGS, tmp_path)
    assert result.returncode == 0, result.stderr
    backend, _location, _prefix, max_entries = result.stdout.split()
    assert backend == "django.core.cache.backends.locmem.LocMemCache"
    assert 0 < int(max_entries) <= 100


def test_with_redis_the_cache_is_redis_under_the_queue_name(tmp_path):
    environment = {"REDIS_URL": "redis://127.0.0.1:6399/3", "WEBMAIL_CELERY_QUEUE": "team-b"}
    result = run_local(CACHE_SETTINGS, tmp_path, environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6399/3",
        "team-b",
        "None",
    ]
    result = run_local(CACHE_SETTINGS, tmp_path, {**environment, "WEBMAIL_CACHE_KEY_PREFIX": "mail-b"})
    assert result.stdout.split()[2] == "mail-b"


def test_with_redis_processes_share_the_cache(tmp_path):
    """What one process caches (a sync it just asked for, a folder's milestones) another sees."""
    from tests.servers.redis import RedisServer

    with RedisServer() as redis:
        environment = {"REDIS_URL": redis.url}
        first = run_local(
            "from django.core.cache import cache\n"
            "print(cache.add('webmail:sync-published:7', True, 30))\n"
            "cache.set('webmail:milestones:7', [(0, None, 41)], 30)\n",
            tmp_path,
            environment,
        )
        second = run_local(
            "from django.core.cache import cache\n"
            "print(cache.add('webmail:sync-published:7', True, 30), cache.get('webmail:milestones:7'))\n",
            tmp_path,
            environment,
        )
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split() == ["True"]
    assert second.stdout.strip() == "False [(0, None, 41)]"
