"""The notifications communities send: generic words, a link back to the portal, never the post."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from portal_social.core.notify import OPAQUE_ID, NameOf, Template, register

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
register(
    Template(
        key="community.post_deleted",
        subject=_("About your community post"),
        body=_(
            "A moderator removed one of your community posts because it does not meet the community's "
            "guidelines. Sign in to read the guidelines."
        ),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="community.welcome",
        subject=_("Welcome to your community"),
        body=_("A community mentor welcomed you. Sign in to read the community and say hello when you are ready."),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="community.join_approved",
        subject=_("Your request to join a community"),
        body=_("A moderator approved your request to join a community. Sign in to read it."),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="community.join_declined",
        subject=_("Your request to join a community"),
        body=_("A moderator decided on your request to join a community. Sign in to see your communities."),
        url_name="portal_social_community:index",
    )
)
# Following (actions/following.py): the link opens the thread, where the access policy decides again.
register(
    Template(
        key="community.reply",
        subject=_("A new reply in a thread you follow"),
        body=_("Someone replied in a community thread you follow. Sign in to read it."),
        url_name="portal_social_community:thread_link",
        params={"thread": OPAQUE_ID, "post": OPAQUE_ID},
        url_kwargs={"thread_id": "thread"},
    )
)
register(
    Template(
        key="community.new_thread",
        subject=_("A new thread in a community you follow"),
        body=_("Someone started a thread in a community you follow. Sign in to read it."),
        url_name="portal_social_community:thread_link",
        params={"thread": OPAQUE_ID},
        url_kwargs={"thread_id": "thread"},
    )
)
# Clinician spaces: the notices name the space (a name staff set, never what anyone wrote) and nothing in it;
# the daily summary counts them by space: "3 new posts in Cardiology case review".
SPACE = NameOf("portal_social.Community", "name", where=(("kind", "space"),), fallback=_("a clinician space"))
SPACE_POSTS = ngettext_lazy("%(count)d new post in %(space)s", "%(count)d new posts in %(space)s", "count")
register(
    Template(
        key="space.reply",
        subject=_("A new reply in %(space)s"),
        body=_("A colleague replied in a thread you follow in %(space)s, a clinician space. Sign in to read it."),
        url_name="portal_social_community:thread_link",
        params={"thread": OPAQUE_ID, "post": OPAQUE_ID, "space": SPACE},
        url_kwargs={"thread_id": "thread"},
        digest_line=SPACE_POSTS,
    )
)
register(
    Template(
        key="space.new_thread",
        subject=_("A new thread in %(space)s"),
        body=_("A colleague started a thread in %(space)s, a clinician space you follow. Sign in to read it."),
        url_name="portal_social_community:thread_link",
        params={"thread": OPAQUE_ID, "space": SPACE},
        url_kwargs={"thread_id": "thread"},
        digest_line=SPACE_POSTS,
    )
)
register(
    Template(
        key="space.announcement",
        subject=_("A new announcement in %(space)s"),
        body=_("An announcement was posted in %(space)s, a clinician space you belong to. Sign in to read it."),
        url_name="portal_social_community:thread_link",
        params={"thread": OPAQUE_ID, "space": SPACE},
        url_kwargs={"thread_id": "thread"},
        digest_line=ngettext_lazy(
            "%(count)d new announcement in %(space)s", "%(count)d new announcements in %(space)s", "count"
        ),
    )
)
# Mentions (actions/mentions.py): the link is the post's permalink, where the access policy decides again.
register(
    Template(
        key="community.mention",
        subject=_("You were mentioned in a community post"),
        body=_("A member mentioned your community name in a post. Sign in to read it."),
        url_name="portal_social_community:permalink",
        params={"post": OPAQUE_ID},
        url_kwargs={"post_id": "post"},
    )
)
# Earned badges (actions/badges.py): never which badge or what earned it, only that one was earned.
register(
    Template(
        key="community.badge",
        subject=_("You earned a community badge"),
        body=_("Your part in the community earned you a badge. It shows beside your community name on your posts."),
        url_name="portal_social_community:index",
    )
)
register(
    Template(
        key="space.join_requested",
        subject=_("A colleague asked to join a clinician space"),
        body=_("A colleague asked to join a clinician space you manage. Open the space's members to decide."),
        url_name="portal_social_community:spaces",
    )
)
register(
    Template(
        key="space.join_approved",
        subject=_("You were added to a clinician space"),
        body=_("A colleague approved your request to join a clinician space. Open your spaces to read it."),
        url_name="portal_social_community:spaces",
    )
)
