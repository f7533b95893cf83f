"""The queue's own notifications: generic words, a link to the queue, never the content."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import Template, register

register(
    Template(
        key="moderation.needs_review",
        subject=_("Something is waiting in the moderation queue"),
        body=_("New content is waiting for a moderator. Open the moderation queue to decide."),
        url_name="portal_social_moderation_queue",
    )
)
register(
    Template(
        key="moderation.urgent",
        subject=_("An urgent item is in the moderation queue"),
        body=_("An item in the moderation queue is marked urgent. Open the queue: urgent items are listed first."),
        url_name="portal_social_moderation_queue",
    )
)
