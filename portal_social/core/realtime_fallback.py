"""Live updates through a channel-layer outage: sockets stay open and read the kept events meanwhile.

The channel layer (Redis) carries pushes between server processes. When it
goes away (a restart, a network break), a socket of this process does not
close: the first one to meet the failure tells this process's watcher, which
then, every :data:`POLL_SECONDS`, reads the events kept in the database
(``RealtimeEvent``) for every stream the process's sockets follow and hands
each socket what it has not sent yet. Every :data:`PROBE_SECONDS` it tries the
layer again; once it answers, each socket joins its groups again (a restarted
Redis has forgotten them), reads once more what was kept while it was away,
and asks the access policy and the session store again, since a "session
ended" or "access changed" message sent during the outage was lost with it.

Deliveries stay exactly-once and in order: whatever reaches a socket, from a
push or from the database, goes through the consumer's ``_deliver``, which
drops an id already sent and fills a gap from the kept events.

Everything here runs on the server's event loop: the watcher is one task per
loop, and what it reads for a socket is queued for the socket's own dispatch,
so a consumer still handles one message at a time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from typing import Any

from channels.db import database_sync_to_async

logger = logging.getLogger("portal_social.core.realtime")

#: How often the kept events are read while the channel layer is down.
POLL_SECONDS = 0.05
#: How often the channel layer is tried again while it is down.
PROBE_SECONDS = 0.25
#: The longest pause between a socket's own tries of a failing channel-layer read.
RETRY_MAX_SECONDS = 1.0
#: How long the watcher goes on reading for a socket after it joined its groups again: a restarted layer's
#: first reads may lag (channels-redis blocks for up to 5 seconds per read), and a repeat is dropped anyway.
SETTLE_SECONDS = 6.0
#: The sockets' checks of their session and access after an outage are spread over this long: each reads the
#: database, and a process's sockets all asking at once would hold up the pages and the watcher. Events carry
#: ids, never content, and every frame a socket sends checks its session anyway, so the wait reveals nothing.
RECHECK_SPREAD_SECONDS = 30.0
#: Sockets joining their groups again at the same time, after an outage.
JOINS_AT_ONCE = 8
#: The local message that tells a socket the layer answers again (handled by ``portal_layer_back``).
LAYER_BACK = "portal.layer_back"


class _Watcher:
    """The sockets of one event loop, and the task that serves them while the layer is down."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.degraded: weakref.WeakSet = weakref.WeakSet()
        #: Sockets that joined their groups again, with when the watcher stops reading for them.
        self.settling: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.task: asyncio.Task | None = None

    def layer_failed(self) -> None:
        if not self.degraded:
            logger.warning("channel layer unreachable: live updates read from the database until it is back")
        self.degraded.update(self.sockets)
        self.settling.clear()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        probed = time.monotonic()
        while self.degraded or self.settling:
            await _poll([*self.degraded, *self.settling])
            now = time.monotonic()
            for socket, until in list(self.settling.items()):
                if now >= until or socket in self.degraded:
                    self.settling.pop(socket, None)
            if self.degraded and now - probed >= PROBE_SECONDS:
                probed = now
                await self._rejoin()
                if not self.degraded:
                    logger.warning("channel layer reachable again: live updates pushed")
            await asyncio.sleep(POLL_SECONDS)

    async def _rejoin(self) -> None:
        """Every degraded socket tries its groups at once; those that joined read once more what was kept
        (one read for all of them: anything later is pushed to them) and go back to pushes."""
        sockets = list(self.degraded)
        gate = asyncio.Semaphore(JOINS_AT_ONCE)  # within the layer's connection pool

        async def join(socket) -> bool:
            async with gate:
                return await socket._join_groups()

        joined = [socket for socket, ok in zip(sockets, await asyncio.gather(*map(join, sockets)), strict=True) if ok]
        if not joined:
            return
        await _poll(joined)
        settled = time.monotonic() + SETTLE_SECONDS
        loop = asyncio.get_running_loop()
        for socket in joined:
            self.degraded.discard(socket)
            self.settling[socket] = settled
            loop.call_later(random.uniform(0, RECHECK_SPREAD_SECONDS), socket._queue_local, {"type": LAYER_BACK})


_watchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def watcher() -> _Watcher:
    """This event loop's watcher."""
    loop = asyncio.get_running_loop()
    found = _watchers.get(loop)
    if found is None:
        found = _watchers[loop] = _Watcher()
    return found


def _stored_after(wanted: dict[str, int]) -> dict[str, list[dict]]:
    """``{stream key: [kept event payloads after the id given, oldest first]}`` for the streams that moved:
    one query for the counters, one more only when some stream has news."""
    from portal_social.core.realtime import KEEP_EVENTS
    from portal_social.core.realtime_models import RealtimeEvent, RealtimeStream

    moved = {
        key: (row_id, wanted[key])
        for row_id, key, last_id in RealtimeStream.objects.filter(key__in=wanted).values_list("id", "key", "last_id")
        if last_id > wanted[key]
    }
    if not moved:
        return {}
    keys_by_row = {row_id: key for key, (row_id, _after) in moved.items()}
    floor = min(after for _row, after in moved.values())
    found: dict[str, list[dict]] = {}
    rows = (
        RealtimeEvent.objects.filter(stream_id__in=keys_by_row, event_id__gt=floor)
        .order_by("stream_id", "event_id")
        .values_list("stream_id", "event_id", "payload")
    )
    for row_id, event_id, payload in rows[: KEEP_EVENTS * len(moved)]:
        key = keys_by_row[row_id]
        if event_id > moved[key][1]:
            found.setdefault(key, []).append(payload)
    return found


async def _poll(sockets: list) -> None:
    """Queue for each socket the kept events of its streams that it has not been given yet."""
    from portal_social.core.realtime import stream_key

    wanted: dict[str, int] = {}
    followers: list[tuple[Any, tuple[str, str], str]] = []
    for socket in sockets:
        for sub_key in list(socket.delivered):
            key = stream_key(*sub_key)
            after = socket._handed_up_to(sub_key)
            wanted[key] = min(wanted.get(key, after), after)
            followers.append((socket, sub_key, key))
    if not wanted:
        return
    try:
        found = await database_sync_to_async(_stored_after)(wanted)
    except Exception as exc:  # the database too: the next round tries again
        logger.warning("live updates: kept events could not be read (%s)", type(exc).__name__)
        return
    for socket, sub_key, key in followers:
        for payload in found.get(key, ()):
            socket._hand(sub_key, payload)


class LayerOutageMixin:
    """For a channels consumer: a channel-layer read that fails does not end the socket; the watcher serves it.

    The consumer calls :meth:`_layer_trouble` where a group add or discard fails, and implements
    ``_join_groups`` (add every group again; False when the layer still fails) and ``portal_layer_back``.
    ``delivered`` maps each followed ``(stream, target)`` to the id of the last event sent.
    """

    delivered: dict[tuple[str, str], int]

    async def __call__(self, scope, receive, send):
        self._local: asyncio.Queue = asyncio.Queue()
        self._layer_task: asyncio.Future | None = None
        self._handed: dict[tuple[str, str], int] = {}
        self._retry = 0.0
        self._retry_at = 0.0
        watcher().sockets.add(self)
        try:
            await super().__call__(scope, receive, send)
        finally:
            task = self._layer_task
            if task is not None and not task.done():
                task.cancel()
            elif task is not None and not task.cancelled():
                task.exception()  # a read that failed as the socket closed: nothing more to do with it
            watcher().degraded.discard(self)
            watcher().settling.pop(self, None)

    # ``AsyncConsumer.__call__`` assigns the layer's read for this channel here; the consumer's dispatch
    # loop then reads through :meth:`_next_message` instead.
    @property
    def channel_receive(self):
        return self._next_message

    @channel_receive.setter
    def channel_receive(self, layer_receive) -> None:
        self._layer_receive = layer_receive

    def _queue_local(self, message: dict) -> None:
        self._local.put_nowait(message)

    def _handed_up_to(self, sub_key: tuple[str, str]) -> int:
        return max(self.delivered.get(sub_key, 0), self._handed.get(sub_key, 0))

    def _hand(self, sub_key: tuple[str, str], payload: dict) -> None:
        event_id = payload.get("id")
        if isinstance(event_id, int) and event_id > self._handed_up_to(sub_key):
            self._handed[sub_key] = event_id
            self._queue_local({"type": "portal.event", "event": payload})

    def _layer_trouble(self, exc: BaseException) -> None:
        found = watcher()
        if self not in found.degraded:  # once per outage, not once per retry
            logger.warning("live updates: channel layer failed (%s)", type(exc).__name__)
        found.layer_failed()

    async def _next_message(self) -> dict:
        """The next message for this socket: one the watcher queued, or one from the channel layer.

        A failed layer read is tried again after a pause (doubling to :data:`RETRY_MAX_SECONDS`); what the
        watcher queues meanwhile is handed on at once.
        """
        loop = asyncio.get_running_loop()
        while True:
            if not self._local.empty():
                return self._local.get_nowait()
            now = loop.time()
            if self._layer_task is None and now >= self._retry_at:
                self._layer_task = asyncio.ensure_future(self._layer_receive())
            local = asyncio.ensure_future(self._local.get())
            waiting = {local} if self._layer_task is None else {local, self._layer_task}
            timeout = None if self._layer_task is not None else self._retry_at - now
            try:
                await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not local.done():
                    local.cancel()
            if local.done() and not local.cancelled():
                return local.result()
            if self._layer_task is None or not self._layer_task.done():
                continue
            task, self._layer_task = self._layer_task, None
            try:
                message = task.result()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the layer is down: the watcher serves this socket until it is back
                self._layer_trouble(exc)
                self._retry = min(RETRY_MAX_SECONDS, max(0.1, self._retry * 2))
                self._retry_at = loop.time() + self._retry
                continue
            self._retry = 0.0
            return message
