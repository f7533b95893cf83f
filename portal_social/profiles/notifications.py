"""The notifications clinician reviews send, registered with ``core.notify`` on import.

``profiles.actions`` imports this module, and the app imports the actions
at start-up, so every key exists before any action or worker needs it.
Every text is generic: that something happened to "your review", never the
clinician's name, the comment or a reason anyone wrote.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import OPAQUE_ID, Template, register

register(
    Template(
        key="review.needs_moderation",
        subject=_("A clinician review needs moderation"),
        body=_("A review is waiting in the moderation queue. Open the queue to decide."),
        url_name="portal_social_moderation_queue",
    )
)
register(
    Template(
        key="review.published",
        subject=_("Your review is published"),
        body=_("A moderator has read your review of a clinician and published it. Thank you for your feedback."),
    )
)
register(
    Template(
        key="review.published_redacted",
        subject=_("Your review is published"),
        body=_(
            "A moderator published your review of a clinician with some personal details hidden, "
            "to protect your privacy."
        ),
    )
)
register(
    Template(
        key="review.comment_rejected",
        subject=_("About your review"),
        body=_(
            "A moderator read your review of a clinician. Your star ratings count, but the comment will "
            "not be shown because it does not meet our review policy."
        ),
    )
)
register(
    Template(
        key="review.appeal_decided",
        subject=_("Your appeal has been decided"),
        body=_("A moderator has decided the appeal you made about a review. Sign in to see your profile."),
    )
)
register(
    Template(
        key="review.responded",
        subject=_("A response to your review"),
        body=_("Our patient experience team has responded to your review of a clinician."),
    )
)
register(
    Template(
        key="review.needs_attention",
        subject=_("A clinician review needs attention"),
        body=_("A review may need service recovery. Open the patient experience workspace to follow it up."),
    )
)
register(
    Template(
        key="review.invitation",
        subject=_("Tell us about your recent visit"),
        body=_(
            "Thank you for choosing us for your care. We would like to hear how your recent visit went: it takes "
            "about two minutes. Sign in to the portal with the link below to answer. The link works once and "
            "expires in a few weeks. To stop these requests, choose “No more review requests” after you sign in."
        ),
        url_name="portal_social_profiles:invitation",
        params={"invitation": OPAQUE_ID},
        url_kwargs={"token": "invitation"},
        signed_url=True,
    )
)
