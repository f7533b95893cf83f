"""Live updates: the portal's one websocket, and publishing to it after commit.

One authenticated consumer serves every feature at ``/ws/portal-social/``.
Each socket listens on two channel-layer groups:

* the user's group (:func:`user_group_name`): events for every session of
  that user ("you have a new secure message");
* the session's group (:func:`session_group_name`): what concerns this
  sign-in only. Signing out publishes ``session ended`` there, so a socket
  opened by that session closes (code 4401) even when another server process
  holds it: with the Redis channel layer the message crosses processes.

The session is checked again on every frame: a socket whose session expired
or was signed out elsewhere is closed with the sign-in code, whatever process
it lives in.

Features add **streams**: a thread, a conversation, a queue. A feature
registers a stream once (:func:`register_stream`) with the model it follows
and the access-policy action that lets a user follow it (or, for a queue, the
role permission). A client subscribes a socket with ``{"type": "subscribe",
"stream": name, "target": opaque id, "after": last event id seen}``; the
consumer asks ``core.access`` and answers a refusal exactly like an unknown
id. :func:`publish_to_stream` gives each event the next id of its stream, in
commit order, and keeps recent events, so a client that reconnects receives
what it missed (or is told to reload when it missed more than is kept).

Frames are limited in size (:data:`MAX_FRAME_CHARS`) and rate
(:data:`FRAME_RATE`): an oversized frame closes the socket (4413; servers
may not close with the protocol's own 1009), a frame that is not JSON is
answered "bad_json", a flood is answered "rate_limited" and then closed
(4429).

Events carry no PHI, only "something changed, fetch it" with an opaque id,
so a client always reads content over HTTP, through the access policy.
:func:`publish_after_commit` sends an event only once the transaction that
caused it has committed (persist first, then publish), and never fails the
action that called it: a channel-layer outage delays a live update, it does
not lose the data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Model

from portal_social.core.realtime_outage import LAYER_ERRORS, LayerOutageMixin, once_more_on_lost_connection

logger = logging.getLogger(__name__)

#: Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_MFA_REQUIRED = 4403
CLOSE_TOO_MANY_FRAMES = 4429
CLOSE_FRAME_TOO_BIG = 4413
#: Something this socket followed is no longer the user's to see (a caregiver link ended, a conversation
#: was made confidential): the socket is closed, and reloading the page shows what is left.
CLOSE_ACCESS_ENDED = 4404

#: The longest frame a client may send (characters of JSON); longer ones close the socket.
MAX_FRAME_CHARS = 4096
#: At most this many frames in this many seconds; beyond, frames are refused, and at twice it the socket closes.
FRAME_RATE = (30, 10.0)
#: Streams one socket may follow at once.
MAX_SUBSCRIPTIONS = 50
#: Recent events kept per stream for clients that reconnect.
KEEP_EVENTS = 200

#: The group message that ends a session's sockets.
SESSION_ENDED = "portal.session_ended"
#: The group message that makes a user's sockets ask the access policy again about what they follow.
ACCESS_CHANGED = "portal.access_changed"


def _group(kind: str, value: str) -> str:
    # A keyed hash, so group names in Redis reveal neither user ids nor session keys.
    digest = hashlib.blake2b(str(value).encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16)
    return f"portal-social.{kind}.{digest.hexdigest()}"


def user_group_name(user_pk) -> str:
    """The channel-layer group every socket of one user listens on."""
    return _group("user", user_pk)


def session_group_name(session_key: str) -> str:
    """The channel-layer group the sockets of one sign-in session listen on."""
    return _group("session", "s:" + session_key)


def publish(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` now; a channel-layer failure is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:  # a repeat after a lost connection is dropped by the event id
        async_to_sync(once_more_on_lost_connection)(layer.group_send, group, message)
    except Exception as exc:  # a live update must never fail the request that caused it
        logger.warning("live update not delivered to a group (%s)", type(exc).__name__)


def publish_after_commit(group: str, event: dict[str, Any]) -> None:
    """Push ``event`` (small, PHI-free) to the sockets in ``group`` once the current transaction commits."""
    message = {"type": "portal.event", "event": event}
    transaction.on_commit(lambda: publish(group, message), robust=True)


# Streams ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """A kind of live-update stream a socket may follow.

    ``model`` and ``action``: a stream per object, followed by users for whom
    ``access.can(user, action, obj)``; the client names the object by
    ``lookup`` (an opaque id). ``model=None`` and ``permission``: one stream
    (a queue), followed by holders of that role permission.
    """

    name: str
    model: type[Model] | None = None
    action: str = "view"
    lookup: str = "pk"
    permission: str = ""


_streams: dict[str, Stream] = {}


def register_stream(
    name: str,
    model: type[Model] | None = None,
    *,
    action: str = "view",
    lookup: str = "pk",
    permission: str = "",
) -> Stream:
    """Register a stream (once per name). Either a model, or a role permission for a single stream."""
    if (model is None) == (not permission):
        raise ValueError("a stream follows either a model (per object) or a role permission (one stream)")
    stream = Stream(name, model, action, lookup, permission)
    if name in _streams and _streams[name] != stream:
        raise ValueError(f"a live-update stream is already registered as {name!r}")
    _streams[name] = stream
    return stream


def streams() -> dict[str, Stream]:
    return dict(_streams)


def _target_id(stream: Stream, obj: Model | None) -> str:
    if stream.model is None:
        return ""
    return str(getattr(obj, stream.lookup))


def stream_key(name: str, target_id: str) -> str:
    """The keyed hash naming one stream in the channel layer and the database."""
    digest = hashlib.blake2b(f"{name}\x00{target_id}".encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16)
    return digest.hexdigest()


def last_event_ids(names: list[str], target_id: str = "") -> dict[str, int]:
    """The id of the newest event of each stream named in ``names`` (0 for none yet), in one query.

    A page renders these ids and its script subscribes with them as ``after``:
    it then hears only of what changed after the page was read.
    """
    positions = stream_positions([(name, target_id) for name in names])
    return {name: positions[(name, target_id)] for name in names}


def stream_positions(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """:func:`last_event_ids` for streams of several targets: ``{(name, target_id): newest id}``, one query.

    A page listing many targets (a team inbox follows each of its pools) reads these before what it
    lists, and its script subscribes with them: a quiet page load then hears of nothing."""
    from portal_social.core.realtime_models import RealtimeStream

    keys = {stream_key(name, target_id): (name, target_id) for name, target_id in pairs}
    if not keys:
        return {}
    found = dict(RealtimeStream.objects.filter(key__in=keys).values_list("key", "last_id"))
    return {pair: int(found.get(key, 0)) for key, pair in keys.items()}


def stream_group_name(name: str, target_id: str) -> str:
    return f"portal-social.stream.{stream_key(name, target_id)}"


def _next_event_id(key: str) -> tuple[Any, int]:
    from portal_social.core.realtime_models import RealtimeStream

    for _attempt in range(2):
        updated = RealtimeStream.objects.filter(key=key).update(last_id=F("last_id") + 1)
        if updated:
            row = RealtimeStream.objects.get(key=key)
            return row, row.last_id
        try:
            with transaction.atomic():
                row = RealtimeStream.objects.create(key=key, last_id=1)
            return row, 1
        except IntegrityError:  # created by a concurrent publisher: take the next id after theirs
            continue
    raise RuntimeError("could not allocate a live-update event id")


def _next_event_ids(keys: list[str]) -> dict[str, tuple[Any, int]]:
    """``{key: (stream row id, next event id)}`` for distinct ``keys``; each counter row stays locked until the
    commit. One statement where the database can insert-or-update and return the rows (PostgreSQL, SQLite
    3.35+): a stream's first event creates its row, a concurrent first event waits and takes the next id."""
    from portal_social.core.realtime_models import RealtimeStream

    connection = connections[router.db_for_write(RealtimeStream)]
    if connection.vendor not in ("postgresql", "sqlite") or not connection.features.can_return_columns_from_insert:
        found = {}
        for key in keys:
            row, event_id = _next_event_id(key)
            found[key] = (row.pk, event_id)
        return found
    quote = connection.ops.quote_name
    table = quote(RealtimeStream._meta.db_table)
    pk, key_column, last_id = (quote(RealtimeStream._meta.get_field(f).column) for f in ("id", "key", "last_id"))
    # Only quoted names from the model go into the text; the keys are parameters.
    values = ", ".join(["(%s, 1)"] * len(keys))
    sql = f"INSERT INTO {table} ({key_column}, {last_id}) VALUES {values} "  # noqa: S608
    sql += f"ON CONFLICT ({key_column}) DO UPDATE SET {last_id} = {table}.{last_id} + 1 "
    sql += f"RETURNING {pk}, {key_column}, {last_id}"
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return {key: (row_id, int(event_id)) for row_id, key, event_id in cursor.fetchall()}


def publish_to_stream(name: str, target: Model | None, event: dict[str, Any]) -> int:
    """Inside the action's transaction: give ``event`` the stream's next id, keep it, push it after commit.

    ``event`` is small and PHI-free (a kind and opaque ids). Returns the id.
    The stream's counter row stays locked until the commit, so ids follow
    commit order and a reconnecting client never skips one.
    """
    return publish_to_streams([(name, target, event)])[0]


def publish_to_streams(events: list[tuple[str, Model | None, dict[str, Any]]]) -> list[int]:
    """:func:`publish_to_stream` for several ``(name, target, event)`` at once, in this order: two statements
    for all of them (the counters, then the kept events) when each names another stream. Returns the ids.

    The events are pushed after commit in the order given; a caller that names streams in a fixed order
    (an object's own stream before its container's) takes their counter rows in that order.
    """
    planned = []
    for name, target, event in events:
        try:
            stream = _streams[name]
        except KeyError:
            raise ValueError(f"no live-update stream is registered as {name!r}") from None
        target_id = _target_id(stream, target)
        planned.append((name, target_id, stream_key(name, target_id), event))
    keys = [key for _name, _target, key, _event in planned]
    if len(set(keys)) == len(keys):
        return _store_and_push(planned)
    return [_store_and_push([one])[0] for one in planned]


def _store_and_push(planned: list[tuple[str, str, str, dict[str, Any]]]) -> list[int]:
    from portal_social.core.realtime_models import RealtimeEvent

    if not planned:
        return []
    with transaction.atomic(savepoint=False):
        ids = _next_event_ids([key for _name, _target, key, _event in planned])
        rows = []
        for name, target_id, key, event in planned:
            stream_id, event_id = ids[key]
            payload = {**event, "stream": name, "target": target_id, "id": event_id}
            rows.append(RealtimeEvent(stream_id=stream_id, event_id=event_id, payload=payload))
        RealtimeEvent.objects.bulk_create(rows)
        for row in rows:
            if row.event_id > KEEP_EVENTS and row.event_id % 50 == 0:  # trim now and then, not on every event
                RealtimeEvent.objects.filter(stream_id=row.stream_id, event_id__lte=row.event_id - KEEP_EVENTS).delete()
    for (name, target_id, _key, _event), row in zip(planned, rows, strict=True):
        message = {"type": "portal.event", "event": row.payload}
        transaction.on_commit(functools.partial(publish, stream_group_name(name, target_id), message), robust=True)
    return [row.event_id for row in rows]


def _resolve_subscription(user, name, target) -> tuple[Stream, Model | None] | None:
    """The stream and object ``user`` asks to follow, or None when unknown or not allowed (alike)."""
    from portal_social.core import access

    stream = _streams.get(name) if isinstance(name, str) else None
    if stream is None:
        return None
    if stream.model is None:
        return (stream, None) if access.holds(user, stream.permission) else None
    if not isinstance(target, str) or not 0 < len(target) <= 64:
        return None
    try:
        obj = stream.model._default_manager.filter(**{stream.lookup: target}).first()
    except (ValidationError, ValueError, TypeError):
        return None
    if obj is None or not access.can(user, stream.action, obj, break_glass=False):
        return None
    return stream, obj


def _fresh(user):
    """``user`` read again from the database: a socket lives long, and what the access policy cached on
    the scope's user object (roles, a caregiver's patients) may be out of date."""
    from django.contrib.auth import get_user_model

    if user is None or getattr(user, "pk", None) is None:
        return None
    return get_user_model()._default_manager.filter(pk=user.pk).first()


def _resolve_fresh(user, name, target) -> tuple[Stream, Model | None] | None:
    fresh = _fresh(user)
    return None if fresh is None else _resolve_subscription(fresh, name, target)


def _still_allowed(user, name: str, target_id: str) -> bool:
    """Whether ``user``, read afresh from the database, may still follow the stream ``name``/``target_id``."""
    stream = _streams.get(name)
    target = target_id if stream is not None and stream.model is not None else ""
    return _resolve_fresh(user, name, target) is not None


def _missed_events(name: str, target_id: str, after: int, limit: int = KEEP_EVENTS) -> tuple[list[dict], int, bool]:
    """(events after ``after``, the stream's last id, whether some were no longer kept)."""
    from portal_social.core.realtime_models import RealtimeEvent, RealtimeStream

    row = RealtimeStream.objects.filter(key=stream_key(name, target_id)).first()
    if row is None:
        return [], 0, False
    events = list(
        RealtimeEvent.objects.filter(stream=row, event_id__gt=after)
        .order_by("event_id")
        .values_list("event_id", "payload")[:limit]
    )
    gap = bool(after < row.last_id and (not events or events[0][0] != after + 1))
    if events and len(events) == limit and events[-1][0] < row.last_id:
        gap = True  # more were missed than one answer carries: reload
    return [payload for _id, payload in events], row.last_id, gap


def recheck_access_after_commit(user_pks) -> None:
    """Once the current transaction commits, make every socket of these users ask the access policy
    again about each stream it follows; a socket that lost one is closed (:data:`CLOSE_ACCESS_ENDED`).

    For changes that take something away (a caregiver link ended, a conversation made confidential):
    pages refuse at the next request anyway; this reaches sockets already open, in any process.
    """
    pks = [pk for pk in dict.fromkeys(user_pks) if pk is not None]
    if not pks:
        return

    def send() -> None:
        for pk in pks:
            publish(user_group_name(pk), {"type": ACCESS_CHANGED})

    transaction.on_commit(send, robust=True)


def end_session_sockets(session_key: str | None) -> None:
    """Close every socket opened by the session ``session_key``, in any server process."""
    if session_key:
        publish(session_group_name(session_key), {"type": SESSION_ENDED})


def _on_logout(sender, request=None, user=None, **kwargs) -> None:
    session = getattr(request, "session", None)
    end_session_sockets(getattr(session, "session_key", None))


def connect() -> None:
    """Connect the receivers (called once from the app's ``ready``)."""
    user_logged_out.connect(_on_logout, dispatch_uid="portal_social_realtime_logout")


def _origin_allowed(scope) -> bool:
    """A browser names the page that opens a socket (``Origin``); one served from a host the portal does not
    answer to is refused, whatever the host's ASGI stack does. A client that sends no ``Origin`` is not a
    browser page, so no other site's page can be riding on the user's cookie through it: this check lets it
    through, though a stack wrapped in channels' ``AllowedHostsOriginValidator`` (the example portal's)
    refuses it first."""
    from urllib.parse import urlsplit

    from django.http.request import validate_host

    origins = [value for name, value in scope.get("headers", ()) if name == b"origin"]
    if not origins:
        return True
    try:
        parts = urlsplit(origins[-1].decode("latin-1"))
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.scheme not in ("http", "https"):
        return False
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    trusted = {urlsplit(origin).hostname for origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", ())}
    return validate_host(host, allowed) or host in trusted


class PortalSocketConsumer(LayerOutageMixin, AsyncJsonWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subscriptions: dict[tuple[str, str], str] = {}
        #: The id of the last event of each followed stream this socket sent, so it sends each event once
        #: and in order, whatever order the group messages arrive in or whether one was lost.
        self.delivered: dict[tuple[str, str], int] = {}
        self._frames: deque[float] = deque()

    async def connect(self) -> None:
        if not _origin_allowed(self.scope):
            await self.close()  # refused at the handshake (403), as channels' origin validator does
            return
        user = self.scope.get("user")
        # Accept, then close with an application code: closing before the
        # handshake would reach the browser as a bare network failure (1006),
        # and a client could not tell "sign in again" from "retry later".
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await self._mfa_satisfied(user):
            await self.accept()
            await self.close(code=CLOSE_MFA_REQUIRED)
            return
        if await self._kept_out(user):  # e.g. suspended: signed out at their next request
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = [user_group_name(user.pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups.append(session_group_name(session_key))
        self.groups_joined = tuple(groups)
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
        except LAYER_ERRORS as exc:  # the socket is served from the kept events and joins once the layer is back
            self._layer_failed(exc)
        await self.accept()

    async def disconnect(self, code) -> None:
        self._forget_outage()
        for group in (*self.groups_joined, *self.subscriptions.values()):
            await self._leave(group)
        self.subscriptions = {}

    async def _leave(self, group: str) -> None:
        """Leave ``group``. When the layer cannot take it there is nothing to do: a restarted Redis keeps no
        groups, and an entry left behind expires with the layer's group expiry. Reads, not this, decide
        whether the layer is down (many sockets closing at once can briefly use up its connections)."""
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.info("live updates: a group was not left (%s)", type(exc).__name__)

    def _group_names(self) -> list[str]:
        return [*self.groups_joined, *self.subscriptions.values()]

    def _followed(self) -> dict[tuple[str, str], tuple[str, int]]:
        return {sub: (stream_key(*sub), self.delivered.get(sub, 0)) for sub in self.subscriptions}

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Size and rate limits first, then the JSON frame."""
        if bytes_data is not None or text_data is None:
            await self.send_json({"type": "error", "error": "text_only"})
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.close(code=CLOSE_FRAME_TOO_BIG)
            return
        allowed, window = FRAME_RATE
        now = time.monotonic()
        while self._frames and now - self._frames[0] > window:
            self._frames.popleft()
        self._frames.append(now)
        if len(self._frames) > 2 * allowed:
            await self.close(code=CLOSE_TOO_MANY_FRAMES)
            return
        if len(self._frames) > allowed:
            await self.send_json({"type": "error", "error": "rate_limited"})
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            await self.send_json({"type": "error", "error": "bad_json"})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs) -> None:
        if not await self._session_still_valid():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(content)
        elif kind == "unsubscribe":
            await self._unsubscribe(content)
        else:
            await self.send_json({"type": "error", "error": "unknown_type"})

    async def _subscribe(self, content: dict) -> None:
        name, target, after = content.get("stream"), content.get("target", ""), content.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            after = 0
        reply = {"stream": name if isinstance(name, str) else "", "target": target if isinstance(target, str) else ""}
        resolved = await database_sync_to_async(_resolve_fresh)(self.scope["user"], name, target)
        if resolved is None:
            await self.send_json({"type": "error", "error": "not_found", **reply})
            return
        stream, obj = resolved
        target_id = _target_id(stream, obj)
        key = (stream.name, target_id)
        if key not in self.subscriptions:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                await self.send_json({"type": "error", "error": "too_many_subscriptions", **reply})
                return
            group = stream_group_name(stream.name, target_id)
            self.subscriptions[key] = group
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except LAYER_ERRORS as exc:  # joined once the layer is back; the kept events serve it meanwhile
                self._layer_failed(exc)
        # Group messages wait while this runs (a consumer handles one message at a time); those already
        # sent from the stored events below are then dropped as repeats.
        missed, last_id, gap = await database_sync_to_async(_missed_events)(stream.name, target_id, after)
        self.delivered[key] = after
        await self.send_json(
            {"type": "subscribed", "stream": stream.name, "target": target_id, "last_id": last_id, "reload": gap}
        )
        for payload in missed:
            await self._deliver(key, payload)
        if gap:
            self.delivered[key] = max(self.delivered[key], last_id)

    async def _unsubscribe(self, content: dict) -> None:
        key = (content.get("stream"), content.get("target", ""))
        group = self.subscriptions.pop(key, None) if all(isinstance(k, str) for k in key) else None
        self.delivered.pop(key, None)
        if group is not None:
            await self._leave(group)
        await self.send_json({"type": "unsubscribed", "stream": str(key[0])[:64], "target": str(key[1])[:64]})

    async def portal_event(self, event) -> None:
        """Relay a ``{"type": "portal.event", "event": {...}}`` group message.

        A numbered event of a followed stream is sent once and in order: a repeat (already sent from the
        stored events at subscription) is dropped, and when ids were skipped (a push lost while Redis
        restarted, or two commits' pushes crossing) the missing ones are read from the stored events and
        sent first. Events without an id (typing) are passed on as they come.
        """
        payload = event["event"]
        key = (payload.get("stream"), payload.get("target"))
        if isinstance(payload.get("id"), int) and key in self.delivered:
            await self._deliver(key, payload)
        else:
            await self.send_json(payload)

    async def _deliver(self, key: tuple[str, str], payload: dict) -> None:
        event_id = payload["id"]
        last = self.delivered.get(key, 0)
        if event_id <= last:
            return
        if event_id > last + 1:
            missed, _last_id, gap = await database_sync_to_async(_missed_events)(key[0], key[1], last, event_id - last)
            if gap and (not missed or missed[0].get("id") != last + 1):
                await self.send_json(
                    {"type": "subscribed", "stream": key[0], "target": key[1], "last_id": event_id, "reload": True}
                )
            for earlier in missed:
                if last < earlier.get("id", 0) < event_id:
                    await self.send_json(earlier)
                    last = earlier["id"]
        await self.send_json(payload)
        self.delivered[key] = event_id

    async def portal_access_changed(self, event) -> None:
        """Ask the access policy again about every stream followed; close the socket if one was lost."""
        user = self.scope.get("user")
        lost = False
        for (name, target_id), group in list(self.subscriptions.items()):
            allowed = await database_sync_to_async(_still_allowed)(user, name, target_id)
            if not allowed:
                lost = True
                self.subscriptions.pop((name, target_id), None)
                self.delivered.pop((name, target_id), None)
                await self._leave(group)
        if lost:
            await self.close(code=CLOSE_ACCESS_ENDED)

    async def portal_kept(self, message) -> None:
        """Events kept in the database, read while the channel layer is unreachable and once more when this
        socket is back in its groups (``realtime_outage``)."""
        for key, payloads in message["events"].items():
            if key in self.delivered:
                for payload in payloads:
                    await self._deliver(key, payload)

    async def portal_recheck(self, message) -> None:
        """After an outage of the channel layer, which may have lost a "session ended" or "access changed"
        message: the session, then each stream followed, asked again."""
        if not await self._session_still_valid():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.portal_access_changed(message)

    async def portal_session_ended(self, event) -> None:
        """The session that opened this socket signed out: close with the sign-in code."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _session_still_valid(self) -> bool:
        """Whether the session behind this socket still signs in the same user.

        Read afresh from the session store, with Django's own checks (a
        password change ends every other session), so a socket outlives
        neither a sign-out nor an expiry, whichever process it lives in.
        """
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        if not session_key:  # a scope built without a session store (tests)
            return True
        current = await get_user({"session": session.__class__(session_key)})
        user = self.scope.get("user")
        return bool(current.is_authenticated and user is not None and current.pk == user.pk)

    @database_sync_to_async
    def _kept_out(self, user) -> bool:
        """A feature keeps this person out for now (``core.accounts.SIGN_IN_REFUSALS``)."""
        from portal_social.core.accounts import sign_in_refusal

        return bool(sign_in_refusal(user))

    @database_sync_to_async
    def _mfa_satisfied(self, user) -> bool:
        """The same rule as the HTTP gate: staff need a session that passed a second factor."""
        from portal_social.adapter import get_adapter
        from portal_social.core.second_factor import user_has_mfa

        adapter = get_adapter()
        if not adapter.requires_mfa(user):
            return True
        return user_has_mfa(user) and adapter.session_passed_second_factor(self.scope.get("session"), user)
