"""Live-update streams: a counter per stream, and the recent events a reconnecting client may ask for."""

from __future__ import annotations

from django.db import models


class RealtimeStream(models.Model):
    """One stream of live events (a thread, a conversation, a queue), named by a keyed hash.

    ``last_id`` is the id of the newest event: ids grow by one per event, in
    the order the publishing transactions commit, because the row is locked
    from the moment an id is taken until the commit.
    """

    key = models.CharField(max_length=64, unique=True)
    last_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"stream {self.key[:12]}… at {self.last_id}"


class RealtimeEvent(models.Model):
    """A recent event of a stream, kept so a client that reconnects receives what it missed.

    Holds only what the socket sends: a kind and opaque ids, never content.
    """

    stream = models.ForeignKey(RealtimeStream, on_delete=models.CASCADE, related_name="events")
    event_id = models.PositiveBigIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["stream", "event_id"], name="ps_realtime_event_once")]

    def __str__(self) -> str:
        return f"event {self.event_id}"
