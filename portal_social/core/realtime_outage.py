"""Live updates through a channel-layer outage (a Redis restart): sockets stay open and lose nothing.

The channel layer carries pushes between server processes. When it stops
answering, the socket whose read meets the failure tells every socket of its
server process (one event loop): each stops reading from the layer and, until
the layer answers again,

* reads the events kept in the database (``RealtimeEvent``) for the streams it
  follows every :data:`POLL_SECONDS`, and sends what it has not sent yet. The
  reads of all the process's sockets within :data:`BATCH_SECONDS` are one
  query;
* lets one socket of the process at a time try the layer again, at most every
  :data:`PROBE_SECONDS`. When one of them joins its groups, the others are
  woken and join theirs (a restarted Redis has forgotten every group), read
  once more what was kept meanwhile, and go back to reading the layer.

A "session ended" or "access changed" message sent during the outage was
lost with it, so each socket asks the session store and the access policy
again once the layer is back, at a random moment within
:data:`RECHECK_SPREAD_SECONDS` (every socket of a process asking at once
would hold up its pages). Events carry ids, never content, and every frame a
client sends checks its session anyway.

Only connection failures count as an outage (:data:`LAYER_ERRORS`); any other
error of the layer ends the socket as before. Nothing here outlives a socket:
its reads run inside the consumer's own dispatch, which channels cancels and
awaits when the socket ends, and a batched read is one short task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref

from channels.db import database_sync_to_async

logger = logging.getLogger("portal_social.core.realtime")

#: How often a socket reads the kept events while the channel layer is down.
POLL_SECONDS = 0.25
#: How often one socket of a process tries the channel layer again while it is down.
PROBE_SECONDS = 0.1
#: Sockets of one process joining their groups at the same time, after an outage (within the layer's pool
#: of connections, 100 by default, which also carries every push the process sends).
JOINS_AT_ONCE = 8
#: Reads of kept events asked for within this long by a process's sockets are one query.
BATCH_SECONDS = 0.03
#: After an outage, each socket checks its session and access again within this long, at random.
RECHECK_SPREAD_SECONDS = 30.0
#: The message a socket is handed with kept events, while the layer is down and once more when it is back.
KEPT = "portal.kept"
RECHECK = "portal.recheck"


def _layer_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [OSError]  # ConnectionError and TimeoutError among them
    try:
        from redis import exceptions
    except ImportError:  # pragma: no cover - the Redis client is a dependency
        return tuple(found)
    return (*found, exceptions.ConnectionError, exceptions.TimeoutError)


#: What a channel layer raises when it cannot be reached.
LAYER_ERRORS = _layer_errors()


class _Outage:
    """One event loop's view of its channel layer: broken or not, and who is probing it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: Resolved when a socket of this loop meets a layer failure; replaced once the layer answers.
        self.broken: asyncio.Future = loop.create_future()
        #: Resolved when a socket joined its groups again; replaced at the next failure.
        self.back: asyncio.Future = loop.create_future()
        self.last_probe = 0.0
        self.probing = False
        self.warned = False
        #: Counts the layer's returns: a read begun before the last one may fail on a connection the restart
        #: broke, which says nothing of the layer now.
        self.returns = 0
        self.joining = asyncio.Semaphore(JOINS_AT_ONCE)

    def failed(self, exc: BaseException) -> None:
        if not self.broken.done():
            self.broken.set_result(None)
            self.back = self.loop.create_future()
            if not self.warned:
                logger.warning(
                    "channel layer unreachable (%s): live updates read from the database until it is back",
                    type(exc).__name__,
                )
                self.warned = True

    def answered(self) -> None:
        if self.broken.done():
            self.broken = self.loop.create_future()
        if not self.back.done():
            self.returns += 1
            self.back.set_result(None)
            if self.warned:
                logger.warning("channel layer reachable again: live updates pushed")
                self.warned = False

    def may_probe(self) -> bool:
        """Whether this socket should try the layer now: it answered already, or nobody tried it lately."""
        if self.back.done():
            return True
        return not self.probing and time.monotonic() - self.last_probe >= PROBE_SECONDS


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def state() -> _Outage:
    loop = asyncio.get_running_loop()
    found = _states.get(loop)
    if found is None:
        found = _states[loop] = _Outage(loop)
    return found


# Kept events, read for many sockets at once ---------------------------------------------------------


class _Batch:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.wanted: dict[str, int] = {}
        self.result: asyncio.Future = loop.create_future()
        self.started = False

    async def run(self) -> None:
        self.started = True
        try:
            found = await database_sync_to_async(_stored_after)(dict(self.wanted))
        except Exception as exc:  # the database too: each socket tries again at its next round
            if not self.result.done():
                self.result.set_exception(exc)
                self.result.exception()  # retrieved here, so an unwaited failure is not reported as lost
        else:
            if not self.result.done():
                self.result.set_result(found)


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def kept_after(wanted: dict[str, int]) -> dict[str, list[dict]]:
    """``{stream key: [kept event payloads after the id given, oldest first]}``, for the streams that moved.

    Calls from this loop within :data:`BATCH_SECONDS` share one read.
    """
    if not wanted:
        return {}
    loop = asyncio.get_running_loop()
    batch = _batches.get(loop)
    if batch is None or batch.started:
        batch = _batches[loop] = _Batch(loop)
        loop.call_later(BATCH_SECONDS, lambda: asyncio.ensure_future(batch.run()))
    for key, after in wanted.items():
        batch.wanted[key] = min(batch.wanted.get(key, after), after)
    found = await asyncio.shield(batch.result)
    return {
        key: [payload for payload in found.get(key, ()) if payload.get("id", 0) > after]
        for key, after in wanted.items()
        if key in found
    }


def _stored_after(wanted: dict[str, int]) -> dict[str, list[dict]]:
    """The kept events after the id given for each stream key: one query for the counters, one more only
    when some stream moved."""
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
    rows = (
        RealtimeEvent.objects.filter(stream_id__in=keys_by_row, event_id__gt=floor)
        .order_by("stream_id", "event_id")
        .values_list("stream_id", "event_id", "payload")
    )
    found: dict[str, list[dict]] = {}
    for row_id, event_id, payload in rows[: KEEP_EVENTS * len(moved)]:
        key = keys_by_row[row_id]
        if event_id > moved[key][1]:
            found.setdefault(key, []).append(payload)
    return found


# The consumer's side ------------------------------------------------------------------------------


class LayerOutageMixin:
    """For a channels consumer: a channel layer that cannot be reached does not end the socket.

    The consumer implements ``_group_names()`` (every group it should be in),
    ``_followed()`` (``{(stream, target): (stream key, last id sent)}``) and
    the handlers ``portal_kept`` (``{"events": {(stream, target): [payloads]}}``)
    and ``portal_recheck``; it calls
    :meth:`_layer_failed` where a group add or discard fails.
    """

    _outage_degraded = False
    _recheck_handle: asyncio.TimerHandle | None = None

    # ``AsyncConsumer.__call__`` sets the layer's read for this socket's channel here; its dispatch loop then
    # reads through :meth:`_next_message`, which channels cancels and awaits when the socket ends.
    @property
    def channel_receive(self):
        return self._next_message

    @channel_receive.setter
    def channel_receive(self, layer_receive) -> None:
        self._layer_receive = layer_receive

    def _layer_failed(self, exc: BaseException) -> None:
        self._outage_degraded = True
        state().failed(exc)

    def _forget_outage(self) -> None:
        if self._recheck_handle is not None:
            self._recheck_handle.cancel()
            self._recheck_handle = None

    async def _next_message(self) -> dict:
        while True:
            message = await (self._degraded_round() if self._outage_degraded else self._read_layer())
            if message is not None:
                return message

    async def _read_layer(self) -> dict | None:
        """The layer's next message for this socket; None when the layer failed (here or for another socket)."""
        outage = state()
        broken = outage.broken
        if broken.done():
            self._outage_degraded = True
            return None
        begun = outage.returns
        read = asyncio.ensure_future(self._layer_receive())
        try:
            await asyncio.wait({read, broken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not read.done():
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError, *LAYER_ERRORS):
                    await read
        if read.cancelled():
            self._outage_degraded = True
            return None
        try:
            return read.result()
        except LAYER_ERRORS as exc:
            if begun == outage.returns:
                self._layer_failed(exc)
            return None  # a read begun before the layer came back: read again

    async def _degraded_round(self) -> dict | None:
        outage = state()
        if outage.may_probe():
            outage.probing, outage.last_probe = True, time.monotonic()
            try:
                joined = await self._join_groups()
            finally:
                outage.probing = False
            if joined:
                outage.answered()
                events = await self._kept_events()
                if events is not None:  # else the database failed: groups are joined; read again next round
                    self._outage_degraded = False
                    self._forget_outage()
                    self._recheck_handle = asyncio.get_running_loop().call_later(
                        random.uniform(0, RECHECK_SPREAD_SECONDS), self._queue_recheck
                    )
                    return {"type": KEPT, "events": events}
        events = await self._kept_events()
        if events:
            return {"type": KEPT, "events": events}
        pause = asyncio.ensure_future(asyncio.sleep(POLL_SECONDS * random.uniform(0.8, 1.2)))
        try:
            await asyncio.wait({pause, outage.back}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pause.cancel()
        return None

    async def _join_groups(self) -> bool:
        layer = self.channel_layer
        outage = state()
        async with outage.joining:
            try:
                for group in self._group_names():
                    await layer.group_add(group, self.channel_name)
            except LAYER_ERRORS as exc:
                outage.failed(exc)
                return False
        return True

    async def _kept_events(self) -> dict[tuple[str, str], list[dict]] | None:
        """What was kept for the streams followed and not sent yet; None when the database cannot be read."""
        followed = self._followed()
        try:
            found = await kept_after({key: after for key, after in followed.values()})
        except Exception as exc:
            logger.warning("live updates: kept events could not be read (%s)", type(exc).__name__)
            return None
        return {sub: found[key] for sub, (key, _after) in followed.items() if found.get(key)}

    def _queue_recheck(self) -> None:
        self._recheck_handle = None

        async def send() -> None:
            try:
                await self.channel_layer.send(self.channel_name, {"type": RECHECK})
            except LAYER_ERRORS as exc:  # down again: the next outage's return asks again
                self._layer_failed(exc)

        asyncio.ensure_future(send())
