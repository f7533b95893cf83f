"""The notifications communities send: generic words, a link back to the portal, never the post."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import Template, register

register(
    Template(
        key="community.needs_moderation",
        subject=_("A community post needs moderation"),
        body=_("A post is waiting in the moderation queue. Open the queue to decide."),
        url_name="portal_social_moderation_queue",
    )
)
register(
    Template(
        key="community.post_published",
        subject=_("Your community post is published"),
        body=_("A moderator has read your post and published it. Thank you for taking part."),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="community.post_published_redacted",
        subject=_("Your community post is published"),
        body=_("A moderator published your post with some personal details hidden, to protect your privacy."),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="community.post_rejected",
        subject=_("About your community post"),
        body=_(
            "A moderator read your post and did not publish it because it does not meet the community's "
            "guidelines. Sign in to read the guidelines."
        ),
        url_name="portal_social_community:index",
    )
)
