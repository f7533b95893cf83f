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
  :data:`PROBE_SECONDS`, by joining the groups of every socket of the process
  that waits for them (a restarted Redis has forgotten every group) in one
  round trip (:func:`join_groups`). When that succeeds, the sockets are woken,
  read once more what was kept meanwhile (one query for all of them), and go
  back to reading the layer.

A socket that is not in its groups misses pushes, so the time the whole
process takes to join again is the time a message sent just after the
restart waits: joining the sockets one by one took a process of 100 sockets
a quarter of a second, and each join stood in line with the pages.

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

With the layer up, the sockets of a process also compare, every
:data:`SWEEP_SECONDS`, the id of the last event each sent with the streams'
counters (one query for all of them): a push the layer lost without any read
failing (a push that failed twice, a list over its capacity) is sent then,
instead of at the stream's next event or the page's next reconnect. At the
first sweep after :data:`ACCESS_RECHECK_SECONDS`, a socket also asks its
session and access again, since some access ends with nobody to say so: a
caregiver link ends at midnight of its end date, and a link ended in a
process the in-memory layer does not reach sends no message this one hears.
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
#: How often one socket of a process tries the channel layer again while it is down (a refused connection
#: costs next to nothing; every probe it waits is a probe's worth of delay for messages sent meanwhile).
PROBE_SECONDS = 0.05
#: Group adds sent to Redis in one round trip.
JOINS_PER_ROUND_TRIP = 500
#: Reads of kept events asked for within this long by a process's sockets are one query.
BATCH_SECONDS = 0.03
#: How often, with the layer up, a process's sockets compare what they sent with what was kept (one query for
#: all of them): a push the layer lost without failing a read (a failed push, a list over capacity) then
#: arrives this late, not at the stream's next event or the page's next reconnect.
SWEEP_SECONDS = 15.0
#: After an outage, each socket checks its session and access again within this long, at random.
RECHECK_SPREAD_SECONDS = 30.0
#: With the layer up, each socket also asks the session store and the access policy again about this often
#: (at the first sweep after it is due, each socket at its own moment): access that ended with no message to
#: say so (a caregiver link past its end date, a change made in a process the layer does not reach) closes
#: the socket then.
ACCESS_RECHECK_SECONDS = 60.0
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


async def once_more_on_lost_connection(call, *args):
    """``await call(*args)``, and once more after a connection failure: after a Redis restart the first use
    of each pooled connection fails, and the next opens a new one. Raises what the second try raises."""
    try:
        return await call(*args)
    except LAYER_ERRORS:
        return await call(*args)


async def join_groups(layer, pairs: list[tuple[str, str]]) -> None:
    """Add each ``(group, channel)`` to the layer, as ``group_add`` does; raises what the layer raises.

    A channels-redis layer gets them pipelined, in one round trip per shard and :data:`JOINS_PER_ROUND_TRIP`
    (its own ``group_add`` takes two round trips for each); another layer gets ``group_add`` for each. A
    connection failure is tried once more (:func:`once_more_on_lost_connection`).
    """
    await once_more_on_lost_connection(_join, layer, pairs)


async def _join(layer, pairs: list[tuple[str, str]]) -> None:
    if not _is_redis_layer(layer):
        for group, channel in pairs:
            await layer.group_add(group, channel)
        return
    by_shard: dict[int, list[tuple[str, str]]] = {}
    for group, channel in pairs:
        by_shard.setdefault(layer.consistent_hash(group), []).append((group, channel))
    for index, shard_pairs in by_shard.items():
        connection = layer.connection(index)
        for start in range(0, len(shard_pairs), JOINS_PER_ROUND_TRIP):
            now = time.time()
            async with connection.pipeline(transaction=False) as pipe:
                for group, channel in shard_pairs[start : start + JOINS_PER_ROUND_TRIP]:
                    key = layer._group_key(group)  # the key channels-redis's group_add and group_send use
                    pipe.zadd(key, {channel: now})
                    pipe.expire(key, layer.group_expiry)
                await pipe.execute()


async def drop_idle_connections(layer) -> None:
    """Close the layer's idle pooled connections of this event loop, so none from before a restart is used.

    Redis forgets its clients when it restarts, but their connections wait in the pool and fail only when
    next used, one by one, most recently used first: a burst seconds later met one and looked like a new
    outage. Connections in use are left to their commands.
    """
    if not _is_redis_layer(layer):
        return
    for index in range(layer.ring_size):
        await layer.connection(index).connection_pool.disconnect(inuse_connections=False)


def _is_redis_layer(layer) -> bool:
    try:
        from channels_redis.core import RedisChannelLayer
    except ImportError:  # pragma: no cover - another channel layer
        return False
    return isinstance(layer, RedisChannelLayer)


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
        #: The sockets of this loop that are not in their groups since the last failure.
        self.waiting: weakref.WeakSet = weakref.WeakSet()
        self._sweep: asyncio.Future | None = None

    def sweep(self) -> asyncio.Future:
        """Resolved at the next sweep (:data:`SWEEP_SECONDS`); armed while some socket waits for it."""
        if self._sweep is None or self._sweep.done():
            self._sweep = self.loop.create_future()
            self.loop.call_later(SWEEP_SECONDS * random.uniform(0.9, 1.1), self._sweep_now, self._sweep)
        return self._sweep

    @staticmethod
    def _sweep_now(sweep: asyncio.Future) -> None:
        if not sweep.done():
            sweep.set_result(None)

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
            logger.warning("live updates: kept events could not be read (%s)", type(exc).__name__)
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
    ``_followed()`` (``{(stream, target): (stream key, last id sent)}``),
    ``_leave(group)`` (a group discard that logs a failure) and the handlers
    ``portal_kept`` (``{"events": {(stream, target): [payloads]}}``) and
    ``portal_recheck``; it calls :meth:`_layer_failed` where a group add fails
    and :meth:`_forget_outage` when the socket ends.
    """

    _outage_degraded = False
    #: The read of the layer under way, kept across sweeps (cancelling a channels-redis read is not free).
    _read: asyncio.Future | None = None
    _read_begun = 0
    #: A message the layer delivered while its read was being given up: handed on next.
    _held: dict | None = None
    #: False from a failure of the layer until this socket's groups are joined again.
    _in_groups = True
    _closed = False
    _recheck_handle: asyncio.TimerHandle | None = None
    #: When this socket next asks its session and access again, with the layer up (0: not yet set).
    _access_due = 0.0

    # ``AsyncConsumer.__call__`` sets the layer's read for this socket's channel here; its dispatch loop then
    # reads through :meth:`_next_message`, which channels cancels and awaits when the socket ends.
    @property
    def channel_receive(self):
        return self._next_message

    @channel_receive.setter
    def channel_receive(self, layer_receive) -> None:
        self._layer_receive = layer_receive

    def _layer_failed(self, exc: BaseException) -> None:
        self._degrade()
        state().failed(exc)

    def _degrade(self) -> None:
        self._outage_degraded, self._in_groups = True, False
        state().waiting.add(self)

    def _forget_outage(self) -> None:
        """When the socket ends."""
        self._closed = True
        state().waiting.discard(self)
        if self._recheck_handle is not None:
            self._recheck_handle.cancel()
            self._recheck_handle = None

    async def _next_message(self) -> dict:
        while True:
            if self._held is not None:
                message, self._held = self._held, None
                return message
            message = await (self._degraded_round() if self._outage_degraded else self._read_layer())
            if message is not None:
                return message

    async def _read_layer(self) -> dict | None:
        """The layer's next message for this socket; kept events at a sweep when a push was lost; None when the
        layer failed (here or for another socket)."""
        outage = state()
        broken = outage.broken
        if broken.done():
            return await self._leave_layer()
        if not self._access_due:
            self._access_check_due()
        if self._read is None:
            self._read_begun = outage.returns
            self._read = asyncio.ensure_future(self._layer_receive())
        read = self._read
        try:
            await asyncio.wait({read, broken, outage.sweep()}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done() and not broken.done():
                # The sweep. With nothing missed (nearly always) the read stays under way and is waited for
                # again; it is never left pending outside this call, where channels could not cancel it.
                events = await self._kept_events()
                if events:
                    await self._hold_read()
                    return {"type": KEPT, "events": events}
                if self._access_check_due():
                    await self._hold_read()
                    return {"type": RECHECK}
                return None
        except BaseException:  # cancelled: the socket ends
            await self._hold_read()
            raise
        if read.done():
            self._read = None
            if read.cancelled():
                self._degrade()
                return None
            try:
                return read.result()
            except LAYER_ERRORS as exc:
                if self._read_begun == outage.returns:
                    self._layer_failed(exc)
                return None  # a read begun before the layer came back: read again
        return await self._leave_layer()  # the layer failed for another socket of this process

    def _access_check_due(self) -> bool:
        """Whether this socket's periodic check of its session and access is due; if so, the next is set.
        Each socket draws its own moments, so a process's sockets do not all ask at the same sweep."""
        now = time.monotonic()
        due = bool(self._access_due) and now >= self._access_due
        if due or not self._access_due:
            self._access_due = now + ACCESS_RECHECK_SECONDS * random.uniform(0.75, 1.25)
        return due

    async def _leave_layer(self) -> None:
        """Stop reading the layer (it failed) until this socket is back in its groups."""
        await self._hold_read()
        self._degrade()

    async def _hold_read(self) -> None:
        """Give up the read under way; a message it delivered meanwhile is held and handed on next."""
        read, self._read = self._read, None
        if read is None:
            return
        read.cancel()  # nothing when it is done already
        with contextlib.suppress(asyncio.CancelledError, *LAYER_ERRORS):
            message = await read
            if message is not None:
                self._held = message

    async def _degraded_round(self) -> dict | None:
        outage = state()
        if not self._in_groups and outage.may_probe():
            outage.probing, outage.last_probe = True, time.monotonic()
            try:
                joined = await self._join_waiting(outage)
            finally:
                outage.probing = False
            if joined:
                outage.answered()  # wakes the sockets joined with this one
        events = await self._kept_events()
        if self._in_groups and events is not None:  # back; else the database failed: read again next round
            self._outage_degraded = False
            if self._recheck_handle is not None:
                self._recheck_handle.cancel()
            self._recheck_handle = asyncio.get_running_loop().call_later(
                random.uniform(0, RECHECK_SPREAD_SECONDS), self._queue_recheck
            )
        if events:
            return {"type": KEPT, "events": events}
        if not self._outage_degraded:
            return None  # the layer is read next
        pause = asyncio.ensure_future(asyncio.sleep(POLL_SECONDS * random.uniform(0.8, 1.2)))
        try:
            await asyncio.wait({pause, outage.back}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pause.cancel()
        return None

    async def _join_waiting(self, outage: _Outage) -> bool:
        """Join the groups of every socket of this process that waits for them, this one among them."""
        groups = {socket: socket._group_names() for socket in [*outage.waiting, self] if not socket._closed}
        pairs = [(group, socket.channel_name) for socket, names in groups.items() for group in names]
        try:
            if not outage.back.done():
                await drop_idle_connections(self.channel_layer)
            await join_groups(self.channel_layer, pairs)
        except LAYER_ERRORS as exc:
            outage.failed(exc)
            return False
        for socket, names in groups.items():
            socket._in_groups = True
            outage.waiting.discard(socket)
            if socket._closed:  # ended while the join was on its way: its groups are left again
                for group in names:
                    await socket._leave(group)
        return True

    async def _kept_events(self) -> dict[tuple[str, str], list[dict]] | None:
        """What was kept for the streams followed and not sent yet; None when the database cannot be read."""
        followed = self._followed()
        try:
            found = await kept_after({key: after for key, after in followed.values()})
        except Exception:  # logged once for the batch
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
