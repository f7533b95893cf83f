"""An in-memory channel layer that can be taken down and brought back, as a Redis restart does.

While down, every call fails with ``ConnectionError`` and the first read already waiting fails at once (as
the one blocking read a channels-redis process holds does); the others keep waiting. Bringing it back
forgets every group (a restarted Redis keeps none), so a socket hears pushes again only after it joins its
groups again. ``fail_with`` makes the next read fail with another error; ``fail_pushes(n)`` the next n
group sends.
"""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer


class OutageLayer(InMemoryChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.down = False
        self._broken: asyncio.Event | None = None
        self._fault: BaseException | None = None

    def _event(self) -> asyncio.Event:
        if self._broken is None:
            self._broken = asyncio.Event()
        return self._broken

    def go_down(self) -> None:
        self.down = True
        self._event().set()
        self.groups.clear()

    def fail_with(self, error: BaseException) -> None:
        self._fault = error
        self._event().set()

    def fail_pushes(self, count: int) -> None:
        """The next ``count`` group sends fail, as a pooled connection from before a restart does once."""
        self._failing_pushes = count

    def come_back(self) -> None:
        self.down = False  # a read not yet woken by the outage still fails first: its connection broke

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("the channel layer is down")

    async def receive(self, channel):
        self._check()
        while True:
            event = self._event()
            broken = asyncio.ensure_future(event.wait())
            reading = asyncio.ensure_future(super().receive(channel))
            try:
                done, _pending = await asyncio.wait({broken, reading}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # the caller gave up: leave no read behind to swallow a message
                broken.cancel()
                reading.cancel()
                raise
            if reading in done:
                broken.cancel()
                return reading.result()
            reading.cancel()
            if self._broken is event:  # the first read woken learns of it; the others wait on, as in Redis
                self._broken = asyncio.Event()
                fault, self._fault = self._fault, None
                raise fault or ConnectionError("the channel layer went down")

    async def group_add(self, group, channel):
        self._check()
        return await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        self._check()
        return await super().group_discard(group, channel)

    async def group_send(self, group, message):
        self._check()
        if getattr(self, "_failing_pushes", 0):
            self._failing_pushes -= 1
            raise ConnectionError("a connection from before the restart")
        return await super().group_send(group, message)

    async def send(self, channel, message):
        self._check()
        return await super().send(channel, message)
