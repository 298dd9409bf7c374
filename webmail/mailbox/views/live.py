"""The page's live news: a Server-Sent Events stream of folder changes, and a cheap poll beside it.

``stream`` sends the user's folder counts once (``state``), then an ``folder`` event each time a
sync changes one (``live.folder_changed``), and a comment every 15 s so that proxies keep the
connection; after a few minutes it ends and the browser's EventSource connects again (each
reconnect is a request, which keeps the user counted as active, and so watched). Served by an
ASGI server (uvicorn, in production) the stream is an async generator; under WSGI (``make run``'s
development server) a plain one, holding a thread: Django would otherwise read either kind to the
end before sending a byte.

``state`` answers the same counts as JSON with an ETag, and 304 while nothing changed: the page
polls it when the stream cannot get through (a proxy that buffers).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from webmail.mailbox import leases, live

log = logging.getLogger(__name__)

STREAM_SECONDS = 240
# Under WSGI a stream holds a thread of the server: shorter, and no database connection kept.
WSGI_STREAM_SECONDS = 55
HEARTBEAT_SECONDS = 15.0
# Without Redis the stream reads the counts this often; with it, now and then, in case news was lost.
DATABASE_SECONDS = 1.0
SAFETY_SECONDS = 30.0


class News:
    """What one stream has told its page, and what to tell it next."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.known: dict[int, dict[str, Any]] = {}

    def first(self, state: dict[int, dict[str, Any]]) -> str:
        self.known = state
        return f"retry: 3000\nevent: state\ndata: {json.dumps(list(state.values()))}\n\n"

    def since(self, state: dict[int, dict[str, Any]]) -> str:
        """Events for the folders whose version moved since the page was last told."""
        changed = [item for pk, item in state.items() if self.known.get(pk, {}).get("version") != item["version"]]
        self.known = state
        return "".join(_event(item) for item in changed)

    def published(self, data: bytes | str) -> str:
        try:
            item = json.loads(data)
            pk = int(item["folder"])
        except (ValueError, KeyError, TypeError):
            return ""
        if pk not in self.known or self.known[pk].get("version") == item.get("version"):
            return ""
        self.known[pk] = item
        return _event(item)


def _event(item: dict[str, Any]) -> str:
    return f"event: folder\ndata: {json.dumps(item)}\n\n"


@require_GET
@login_required
def stream(request: HttpRequest) -> HttpResponse:
    request.background = True  # type: ignore[attr-defined]  # not a person using the page
    asgi = isinstance(request, ASGIRequest)
    # The page is open: its user's accounts are watched (IDLE) while it is, and a little longer.
    seconds = STREAM_SECONDS if asgi else WSGI_STREAM_SECONDS
    leases.page_open(request.user.pk, timezone.now() + timedelta(seconds=2 * seconds))
    news = News(request.user.pk)
    content = _async_events(news) if asgi else _sync_events(news)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store, private"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _snapshot_and_let_go(user_id: int) -> dict[int, dict[str, Any]] | None:
    """The counts, and the thread's database connection closed; None when the database cannot
    be read now (the stream ends, and the browser connects again in a few seconds)."""
    try:
        return live.snapshot(user_id)
    except Exception as exc:
        log.info("live stream of user %s ends: the database could not be read (%s)", user_id, exc)
        return None
    finally:
        connection.close()


def _sync_events(news: News) -> Iterator[str]:
    pubsub = _subscribed(news.user_id)
    try:
        state = _snapshot_and_let_go(news.user_id)
        if state is None:
            return
        yield news.first(state)
        end = time.monotonic() + WSGI_STREAM_SECONDS
        checked = time.monotonic()
        while time.monotonic() < end:
            chunk = ""
            if pubsub is not None:
                try:
                    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except (RedisError, OSError) as exc:  # Redis went away: the page connects again
                    log.info("live stream of user %s ends: Redis (%s)", news.user_id, exc)
                    return
                chunk = news.published(message["data"]) if message else ""
            else:
                time.sleep(DATABASE_SECONDS)
            # Written every second: a page that went away is noticed at once (the write fails
            # and the generator is closed here), before the database is read for it again.
            yield chunk or ":\n\n"
            if time.monotonic() - checked >= (SAFETY_SECONDS if pubsub is not None else DATABASE_SECONDS):
                checked = time.monotonic()
                if (state := _snapshot_and_let_go(news.user_id)) is None:
                    return
                if more := news.since(state):
                    yield more
    finally:
        if pubsub is not None:
            pubsub.close()


def _subscribed(user_id: int) -> Any:
    """The user's news channel; None without Redis, or while it is away (the stream then reads
    the counts itself, as without Redis)."""
    if not settings.REDIS_URL:
        return None
    try:
        return live.subscribe(user_id)
    except (RedisError, OSError) as exc:
        log.info("live stream of user %s reads the database: Redis (%s)", user_id, exc)
        return None


async def _async_events(news: News) -> AsyncIterator[str]:
    snapshot = sync_to_async(live.snapshot)
    try:
        pubsub = await live.subscribe_async(news.user_id) if settings.REDIS_URL else None
    except (RedisError, OSError):
        pubsub = None
    try:
        yield news.first(await snapshot(news.user_id))
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        checked = beat = loop.time()
        while loop.time() < end:
            chunk = ""
            if pubsub is not None:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except (RedisError, OSError) as exc:  # Redis went away: the page connects again
                    log.info("live stream of user %s ends: Redis (%s)", news.user_id, exc)
                    return
                chunk = news.published(message["data"]) if message else ""
            else:
                await asyncio.sleep(DATABASE_SECONDS)
            if loop.time() - checked >= (SAFETY_SECONDS if pubsub is not None else DATABASE_SECONDS):
                chunk += news.since(await snapshot(news.user_id))
                checked = loop.time()
            if not chunk and loop.time() - beat >= HEARTBEAT_SECONDS:
                chunk = ": still here\n\n"
            if chunk:
                beat = loop.time()
                yield chunk
    finally:
        if pubsub is not None:
            await pubsub.aclose()


@require_GET
@login_required
def state(request: HttpRequest) -> HttpResponse:
    """The user's folder counts; 304 when the page's ETag is still right."""
    request.background = True  # type: ignore[attr-defined]
    current = live.snapshot(request.user.pk)
    tag = live.state_tag(current)
    if request.headers.get("If-None-Match") == tag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = JsonResponse(list(current.values()), safe=False)
    response["ETag"] = tag
    response["Cache-Control"] = "private, no-store"  # the page sends If-None-Match itself
    return response
