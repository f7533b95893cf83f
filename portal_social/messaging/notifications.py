"""The notifications secure messaging sends: "You have a new secure message", never the message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import OPAQUE_ID, Template, register

register(
    Template(
        key="message.received",
        subject=_("You have a new secure message"),
        body=_("You have a new secure message in the portal. Sign in to read it."),
        url_name="portal_social_messaging:conversation",
        params={"conversation": OPAQUE_ID},
        url_kwargs={"conversation_id": "conversation"},
        by_text=True,
    )
)
register(
    Template(
        key="message.pool_received",
        subject=_("A patient sent a secure message"),
        body=_("A secure message is waiting in your team's inbox. Sign in to read it."),
        url_name="portal_social_messaging:inbox",
        by_text=True,
    )
)
register(
    Template(
        key="message.urgent",
        subject=_("An urgent secure message is waiting"),
        body=_(
            "A secure message in your team's inbox may describe something that needs care now. "
            "Sign in and read it first."
        ),
        url_name="portal_social_messaging:inbox",
        mandatory=True,
        by_text=True,
    )
)
register(
    Template(
        key="message.unread_reminder",
        subject=_("You have an unread secure message"),
        body=_("A secure message is waiting for you in the portal. Sign in to read it."),
        url_name="portal_social_messaging:inbox",
        by_text=True,
    )
)
register(
    Template(
        key="message.reply_late",
        subject=_("A patient's secure message is waiting past its reply time"),
        body=_(
            "A patient's secure message in a pool you lead has waited longer than the reply time patients are "
            "promised. Sign in to the team's inbox to answer or assign it."
        ),
        url_name="portal_social_messaging:inbox",
        by_text=True,
    )
)
