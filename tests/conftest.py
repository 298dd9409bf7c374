"""The fixed cast of every test (an owner, a teammate and a stranger, signed in or not) and the
run-wide set-up every test shares: a throwaway broker, a cache of its own, empty for each test.
Sign-in helpers are in tests/helpers.py."""

from __future__ import annotations

import os
import uuid

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import UserFactory
from tests.helpers import sign_in

pytest_plugins = ["tests.servers.fixtures", "tests.servers.postfix_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """The German and French catalogues compiled (as ``make test`` does first), for a run
    started with pytest alone; a catalogue compiled already is left as it is."""
    from django.core.management import call_command
    from django.utils import translation
    from django.utils.translation import trans_real

    call_command("compile_translations", verbosity=0)
    trans_real._translations.clear()  # none read before the files existed is kept
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def _throwaway_broker(tmp_path_factory):
    """Tasks that tests publish with no worker listening go to a broker of this session's own,
    never to the checkout's var/ or a Redis that someone's worker reads."""
    from tests.servers.celery_worker import _drop_broker_connections
    from webmail.celery import app

    folder = tmp_path_factory.mktemp("broker")
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir()
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}
    _drop_broker_connections(app)
    app.conf.update(
        broker_url="filesystem://",
        broker_transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )
    yield
    _drop_broker_connections(app)
    app.conf.update(saved)


@pytest.fixture(autouse=True)
def _outbox_database_threads():
    """A send run in this process keeps database connections on threads of its own between
    runs; they go at the end of each test, before the test database is flushed or dropped."""
    yield
    from outbox.delivery import close_database_threads

    close_database_threads()


def _clear_prefix(self) -> bool:
    """RedisCache.clear() for a test run: this run's keys only. Django's own flushes the whole
    Redis database, which under CI is also the broker's, and other runs' (and workers') cache."""
    client = self._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))  # the prefix has no * ? [
    if keys:
        client.delete(*keys)
    return True


@pytest.fixture(scope="session", autouse=True)
def _cache_of_this_run():
    """With Redis the cache is shared, between processes and between test runs: this run's keys
    get a prefix of their own (the workers it starts inherit it through the environment), and
    clearing the cache deletes only those."""
    from django.conf import settings
    from django.core.cache.backends.redis import RedisCache
    from django.test import override_settings

    cache_settings = settings.CACHES["default"]
    if cache_settings["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        yield
        return
    prefix = f"webmail-test-{uuid.uuid4().hex[:12]}"
    saved = os.environ.get("WEBMAIL_CACHE_KEY_PREFIX")
    os.environ["WEBMAIL_CACHE_KEY_PREFIX"] = prefix
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(CACHES={"default": {**cache_settings, "KEY_PREFIX": prefix}}),
    ):
        patch.setattr(RedisCache, "clear", _clear_prefix)
        from django.core.cache import cache

        yield
        cache.clear()
    if saved is None:
        os.environ.pop("WEBMAIL_CACHE_KEY_PREFIX", None)
    else:
        os.environ["WEBMAIL_CACHE_KEY_PREFIX"] = saved


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rows and ids of an earlier test's database can come
    back with the same keys (message sources, list milestones, publish dedup)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def owner(db) -> User:
    return UserFactory(email="owner@example.test", full_name="Olivia Owner", is_staff=True, is_superuser=True)


@pytest.fixture
def teammate(db) -> User:
    return UserFactory(email="teammate@example.test", full_name="Tom Teammate")


@pytest.fixture
def stranger(db) -> User:
    return UserFactory(email="stranger@example.test", full_name="Sam Stranger")


@pytest.fixture
def owner_client(client, owner) -> Client:
    return sign_in(client, owner)


@pytest.fixture
def teammate_client(client, teammate) -> Client:
    return sign_in(client, teammate)
