"""The background task that delivers one notification."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_notification(public_id: str) -> str:
    """Render and send one notification; a failure is recorded and retried, never raised."""
    from portal_social.core import notify

    return notify.deliver(public_id)
