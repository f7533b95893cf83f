"""The portal's one websocket: signed-in users receive their own live events.

Events carry no PHI — only "something changed, fetch it" with an opaque id —
so a client always reads content over HTTP, through the access policy.
"""

from __future__ import annotations

import hashlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

#: Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_MFA_REQUIRED = 4403


def user_group_name(user_pk) -> str:
    """The channel-layer group a user's sessions listen on.

    A keyed hash, so group names in Redis do not reveal user ids.
    """
    digest = hashlib.blake2b(str(user_pk).encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=16)
    return f"portal-social.user.{digest.hexdigest()}"


class PortalSocketConsumer(AsyncJsonWebsocketConsumer):
    group_name: str | None = None

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
        self.group_name = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "error": "unknown_type"})

    async def portal_event(self, event) -> None:
        """Relay a ``{"type": "portal.event", "event": {...}}`` group message."""
        await self.send_json(event["event"])

    @database_sync_to_async
    def _mfa_satisfied(self, user) -> bool:
        """The same rule as the HTTP gate: staff need a session that passed a second factor."""
        from portal_social.adapter import get_adapter
        from portal_social.core.second_factor import user_has_mfa

        adapter = get_adapter()
        if not adapter.requires_mfa(user):
            return True
        return user_has_mfa(user) and adapter.session_passed_second_factor(self.scope.get("session"), user)
