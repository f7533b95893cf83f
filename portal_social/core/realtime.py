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

Events carry no PHI, only "something changed, fetch it" with an opaque id,
so a client always reads content over HTTP, through the access policy.
:func:`publish_after_commit` sends an event only once the transaction that
caused it has committed (persist first, then publish), and never fails the
action that called it: a channel-layer outage delays a live update, it does
not lose the data.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction

logger = logging.getLogger(__name__)

#: Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_MFA_REQUIRED = 4403

#: The group message that ends a session's sockets.
SESSION_ENDED = "portal.session_ended"


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
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # a live update must never fail the request that caused it
        logger.warning("live update not delivered to a group (%s)", type(exc).__name__)


def publish_after_commit(group: str, event: dict[str, Any]) -> None:
    """Push ``event`` (small, PHI-free) to the sockets in ``group`` once the current transaction commits."""
    message = {"type": "portal.event", "event": event}
    transaction.on_commit(lambda: publish(group, message), robust=True)


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


class PortalSocketConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()

    async def connect(self) -> None:
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
        groups = [user_group_name(user.pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups.append(session_group_name(session_key))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = tuple(groups)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not await self._session_still_valid():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "error": "unknown_type"})

    async def portal_event(self, event) -> None:
        """Relay a ``{"type": "portal.event", "event": {...}}`` group message."""
        await self.send_json(event["event"])

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
    def _mfa_satisfied(self, user) -> bool:
        """The same rule as the HTTP gate: staff need a session that passed a second factor."""
        from portal_social.adapter import get_adapter
        from portal_social.core.second_factor import user_has_mfa

        adapter = get_adapter()
        if not adapter.requires_mfa(user):
            return True
        return user_has_mfa(user) and adapter.session_passed_second_factor(self.scope.get("session"), user)
