"""Settings for the webmail, read from the environment (see README.md for every variable).

Defaults make ``make run`` work on a laptop: SQLite and a filesystem Celery broker under
``var/``, and throwaway keys generated into ``var/``. Production sets WEBMAIL_DEBUG=0 and
then must provide SECRET_KEY, WEBMAIL_SECRET_KEYS and ALLOWED_HOSTS.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from webmail.env import env_bool, env_choice, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WEBMAIL_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("WEBMAIL_DEBUG", True)

KEY_HELP = "python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'"


def _owner_only(path: Path, mode: int) -> None:
    """Take group and other permissions off ``path`` if it is ours (an older install made them 0755/0644)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    if status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) & 0o077:
        path.chmod(mode)


def _private_dir(path: Path) -> Path:
    """A directory of local state (keys, the SQLite database, the broker's messages): 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(path, 0o700)
    return path


def _private_file(path: Path, text: str = "") -> None:
    """Create ``path`` 0600 from the start (never readable by others, not even for a moment);
    a file another process created first is left as it is."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _development_secret(file_name: str, make: Callable[[], str]) -> str:
    """A secret kept in var/ so a laptop install survives restarts; never used in production."""
    path = _private_dir(VAR_DIR) / file_name
    if not path.exists():
        _private_file(path, make())
    _owner_only(path, 0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when WEBMAIL_DEBUG=0.")
    SECRET_KEY = _development_secret("secret_key", lambda: secrets.token_urlsafe(50))

# Keys for mail passwords at rest: base64 of 32 bytes each, comma separated, newest first.
_secret_keys = env_secret("WEBMAIL_SECRET_KEYS")
if not _secret_keys:
    if not DEBUG:
        raise ImproperlyConfigured(
            "WEBMAIL_SECRET_KEYS (or WEBMAIL_SECRET_KEYS_FILE) must be set when WEBMAIL_DEBUG=0. "
            f"Make a key with: {KEY_HELP}"
        )
    _secret_keys = _development_secret("secret_keys", lambda: base64.b64encode(os.urandom(32)).decode())
WEBMAIL_SECRET_KEYS = [key.strip() for key in _secret_keys.split(",") if key.strip()]
for _position, _key in enumerate(WEBMAIL_SECRET_KEYS, start=1):
    try:
        _valid = len(base64.b64decode(_key, validate=True)) == 32
    except ValueError:
        _valid = False
    if not _valid:
        raise ImproperlyConfigured(
            f"WEBMAIL_SECRET_KEYS: key {_position} is not base64 of 32 random bytes. Make one with: {KEY_HELP}"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list this site's host names when WEBMAIL_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "accounts.apps.SecondFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # django-otp's core only: its TOTP and static device plugins store their secrets in plain
    # text, so the devices are accounts' own (accounts/devices.py), sealed at rest.
    "django_otp",
    "django_htmx",
    "axes",
    "csp",
    "accounts.apps.AccountsConfig",
    "webmail.mailbox.apps.WebmailConfig",
    "outbox.apps.OutboxConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the authentication outcome of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webmail.urls"
WSGI_APPLICATION = "webmail.wsgi.application"
ASGI_APPLICATION = "webmail.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "outbox.context_processors.smtp_hold",
            ],
        },
    },
]

if not env_secret("DATABASE_URL"):
    _private_dir(VAR_DIR)
DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'webmail.sqlite3'}",
        conn_max_age=env_int("WEBMAIL_DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app read while the worker writes; the timeout rides out short write locks.
    # IMMEDIATE: a transaction takes the write lock when it begins, so a writer waits its turn
    # (up to the timeout) instead of failing when it upgrades from reading to writing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The database holds sessions and sealed mail passwords: 0600. SQLite gives its -wal and
    # -shm files the database file's permissions, so creating that file first is enough.
    _database_file = Path(DATABASES["default"]["NAME"])
    if str(_database_file) != ":memory:" and not str(_database_file).startswith("file:"):
        if not _database_file.exists() and _database_file.parent.is_dir():
            _private_file(_database_file)
        for _suffix in ("", "-wal", "-shm", "-journal"):
            _owner_only(_database_file.with_name(_database_file.name + _suffix), 0o600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "webmail:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Second factor. The admin site always demands it, whatever this says.
WEBMAIL_REQUIRE_2FA = env_bool("WEBMAIL_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = env_str("WEBMAIL_SITE_NAME", "Webmail")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
WEBMAIL_BACKUP_CODE_COUNT = 10

# Login lockout on (username, IP) with a cool-off, never a permanent lock.
AXES_FAILURE_LIMIT = env_int("WEBMAIL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("WEBMAIL_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
WEBMAIL_PROXY_COUNT = env_int("WEBMAIL_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.clientip.client_ip"
AXES_VERBOSE = False

# Sessions live in the database; an idle session expires after this many seconds.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("WEBMAIL_SESSION_IDLE_TIMEOUT", 60 * 60, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE = not DEBUG and env_bool("WEBMAIL_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
if SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = not DEBUG and env_bool("WEBMAIL_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("WEBMAIL_BEHIND_PROXY", False) else None
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("WEBMAIL_HSTS_SECONDS", 31536000, minimum=0)
# The webmail normally has a host of its own (mail.example.org), so covering its subdomains costs
# nothing. Preloading is a commitment for the whole registrable domain: only on request.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WEBMAIL_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("WEBMAIL_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Every asset is our own; no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
TIME_ZONE = env_str("WEBMAIL_TIME_ZONE", "UTC")
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("WEBMAIL_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Reading: Authentication-Results headers are trusted only from this authserv-id (our own MTA).
WEBMAIL_AUTHSERV_ID = env_str("WEBMAIL_AUTHSERV_ID")

# Sending.
WEBMAIL_MAX_RECIPIENTS = env_int("WEBMAIL_MAX_RECIPIENTS", 100, minimum=1)
WEBMAIL_MAX_MESSAGE_BYTES = env_int("WEBMAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, minimum=1024)
# Form fields (the message body, mostly) may be a whole message and then some, so that a body
# over the limit gets the compose form's own error, the text kept, rather than Django's bare 400.
# Uploaded files do not count here: Django streams them to disk and the compose form checks them.
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBMAIL_MAX_MESSAGE_BYTES + 1024 * 1024
WEBMAIL_SEND_LIMIT_PER_HOUR = env_int("WEBMAIL_SEND_LIMIT_PER_HOUR", 100, minimum=1)
WEBMAIL_SEND_LIMIT_PER_DAY = env_int("WEBMAIL_SEND_LIMIT_PER_DAY", 500, minimum=1)
WEBMAIL_UNDO_SECONDS = env_int("WEBMAIL_UNDO_SECONDS", 10, minimum=0, maximum=300)
WEBMAIL_RETRY_START_SECONDS = env_int("WEBMAIL_RETRY_START_SECONDS", 60, minimum=1)
WEBMAIL_RETRY_CAP_SECONDS = env_int("WEBMAIL_RETRY_CAP_SECONDS", 3600, minimum=1)
WEBMAIL_MESSAGE_LIFETIME_SECONDS = env_int("WEBMAIL_MESSAGE_LIFETIME_SECONDS", 2 * 24 * 3600, minimum=60)
WEBMAIL_SMTP_CONNECTIONS = env_int("WEBMAIL_SMTP_CONNECTIONS", 8, minimum=1, maximum=32)
WEBMAIL_SMTP_TIMEOUT = env_int("WEBMAIL_SMTP_TIMEOUT", 60, minimum=1)
WEBMAIL_SEND_LEASE_SECONDS = env_int("WEBMAIL_SEND_LEASE_SECONDS", 300, minimum=3)
# Accounts one mail watcher process (manage.py watch_mail) holds an IMAP connection for.
WEBMAIL_WATCHER_MAX_ACCOUNTS = env_int("WEBMAIL_WATCHER_MAX_ACCOUNTS", 200, minimum=1)
# Message bytes a sending run claims and holds at once (plus one message): bounds its memory.
WEBMAIL_CLAIM_BYTES = env_int("WEBMAIL_CLAIM_BYTES", 32 * 1024 * 1024, minimum=1024 * 1024)
WEBMAIL_SWEEP_SECONDS = env_int("WEBMAIL_SWEEP_SECONDS", 15, minimum=1)

# Celery: Redis in production; kombu's filesystem transport under var/ when REDIS_URL is unset.
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # Its files are the tasks' bodies; like the rest of var/, for this user only.
    _broker_dir = _private_dir(_private_dir(VAR_DIR) / "broker")
    for _sub in ("queue", "processed", "control"):
        _private_dir(_broker_dir / _sub)
    # The filesystem transport ignores the host, but kombu warns on every connection without one.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The filesystem transport polls; once a second (its default) would add up to a second
        # to every send on a laptop install.
        "polling_interval": 0.1,
    }
# The queue tasks go to; several installations may share one Redis with a queue each.
CELERY_TASK_DEFAULT_QUEUE = env_str("WEBMAIL_CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The cache holds raw messages for the reading pane (10 minutes), the message lists' milestones
# and the sync de-duplication. With Redis every web and worker process shares it; without, each
# process has a small one of its own. A message larger than WEBMAIL_CACHE_MAX_ENTRY_BYTES is not
# kept: it is fetched again for each request (its frame, its images) rather than pinning memory.
WEBMAIL_CACHE_MAX_ENTRY_BYTES = env_int("WEBMAIL_CACHE_MAX_ENTRY_BYTES", 2 * 1024 * 1024, minimum=0)
_CACHE_LOCAL_ENTRIES = 100  # so a process's own cache holds at most 100 times the entry bound
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Installations sharing one Redis (a queue each) keep their cache keys apart too.
            "KEY_PREFIX": env_str("WEBMAIL_CACHE_KEY_PREFIX") or CELERY_TASK_DEFAULT_QUEUE,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "webmail",
            "OPTIONS": {"MAX_ENTRIES": _CACHE_LOCAL_ENTRIES},
        }
    }
# Housekeeping; each run expires shortly before the next is due so a backlog never piles up.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    "sweep-outbox": {
        "task": "outbox.tasks.sweep",
        "schedule": float(WEBMAIL_SWEEP_SECONDS),
        "options": {"expires": max(1, WEBMAIL_SWEEP_SECONDS - 1)},
    },
    "sync-active-mailboxes": {
        "task": "webmail.tasks.sync_active_accounts",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "prune-connection-checks": {
        "task": "accounts.tasks.prune_connection_checks",
        "schedule": 86400.0,
        "options": {"expires": 86000},
    },
}

# Mail servers. Accounts default to these, so for a one-server team the admin enters only
# the user and a password.
WEBMAIL_IMAP_HOST = env_str("WEBMAIL_IMAP_HOST", "localhost")
WEBMAIL_IMAP_PORT = env_int("WEBMAIL_IMAP_PORT", 993, minimum=1, maximum=65535)
WEBMAIL_IMAP_SECURITY = env_choice("WEBMAIL_IMAP_SECURITY", "tls", ("tls", "starttls", "none"))
WEBMAIL_SMTP_HOST = env_str("WEBMAIL_SMTP_HOST", "localhost")
WEBMAIL_SMTP_PORT = env_int("WEBMAIL_SMTP_PORT", 587, minimum=1, maximum=65535)
WEBMAIL_SMTP_SECURITY = env_choice("WEBMAIL_SMTP_SECURITY", "starttls", ("tls", "starttls", "none"))
WEBMAIL_SMTP_HELO_NAME = env_str("WEBMAIL_SMTP_HELO_NAME")
WEBMAIL_CONNECT_TIMEOUT = env_int("WEBMAIL_CONNECT_TIMEOUT", 10, minimum=1, maximum=120)
WEBMAIL_CONNECTION_TESTS_PER_HOUR = env_int("WEBMAIL_CONNECTION_TESTS_PER_HOUR", 20, minimum=1)

# Error reports (the debug page, mail to ADMINS) never show a mail password, DEBUG or not.
DEFAULT_EXCEPTION_REPORTER = "accounts.tracebacks.SecretSafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "accounts.tracebacks.SecretSafeReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("WEBMAIL_LOG_LEVEL", "INFO").upper()},
    "loggers": {"axes": {"level": "WARNING"}},
}
