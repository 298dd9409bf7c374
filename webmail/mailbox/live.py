"""Telling open pages that a folder changed, the moment a sync changed it.

The sync (``sync.sync_folder``, whoever runs it: the mail watcher over its IDLE connection, a
worker, a page) calls ``folder_changed``; the page's event stream (``views.live``) hears it and
passes it on as a Server-Sent Event. With ``REDIS_URL`` the news travels over Redis pub/sub, one
channel per user, so the stream hears it within milliseconds whichever process synced. Without
it (the embedded default, one host) the stream reads the user's folder counts from the database
once a second instead; ``snapshot`` is what both compare.

An event says which folder, its counts and a version (``state_tag``): what the page needs to
update its list, its unread counts and its title. It carries no mail: what changed is read
through the usual pages, with their checks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.conf import settings

from webmail.mailbox.models import Folder

log = logging.getLogger(__name__)

_client: Any = None


def channel(user_id: int) -> str:
    """The pub/sub channel of one user's news, within this installation's key prefix."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or settings.CELERY_TASK_DEFAULT_QUEUE
    return f"{prefix}:live:{user_id}"


def event_of(folder: Folder) -> dict[str, Any]:
    return {
        "folder": folder.pk,
        "total": folder.total,
        "unread": folder.unread,
        "version": f"{folder.uidnext or 0}.{folder.highestmodseq or 0}.{folder.total}.{folder.unread}",
    }


def folder_changed(folder: Folder, user_id: int) -> None:
    """Publish ``folder``'s new counts to its user's open pages (never raises: a page that misses
    it catches up at its next poll or reconnect)."""
    if not settings.REDIS_URL:
        return  # the streams read the database themselves
    try:
        _redis().publish(channel(user_id), json.dumps(event_of(folder)))
    except Exception:  # Redis away: the pages' own checks catch up
        log.warning("could not publish a change of folder %s", folder.pk, exc_info=True)


def _redis() -> Any:
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def snapshot(user_id: int) -> dict[int, dict[str, Any]]:
    """Every selectable folder of the user's accounts, as its event says it."""
    folders = Folder.objects.filter(account__user_id=user_id, selectable=True).only(
        "pk", "uidnext", "highestmodseq", "total", "unread"
    )
    return {folder.pk: event_of(folder) for folder in folders}


def state_tag(state: dict[int, dict[str, Any]]) -> str:
    """An ETag of a snapshot: the same while nothing changed."""
    versions = json.dumps(sorted((pk, item["version"]) for pk, item in state.items()))
    return '"' + hashlib.sha256(versions.encode()).hexdigest()[:32] + '"'


def subscribe(user_id: int) -> Any:
    """A Redis pub/sub subscribed to the user's channel (blocking client)."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    pubsub = client.pubsub()
    pubsub.subscribe(channel(user_id))
    return pubsub


async def subscribe_async(user_id: int) -> Any:
    """The same, for the event loop of an ASGI server."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel(user_id))
    return pubsub
