"""One moderation queue for every kind of content: reviews today, posts, messages and cases next.

Modelled on Discourse's reviewables. A feature registers each kind of
content once (:class:`Kind`, :func:`register`), then its actions put content
in the queue with reasons (:func:`enqueue`) and close the item when a
decision is carried out (:func:`close`). Moderators work one Wagtail admin
screen (``core.moderation.views``) that lists every kind they may review.
See docs/architecture.md for a worked example.
"""

from portal_social.core.moderation import notifications, rules  # noqa: F401  (register on import)
from portal_social.core.moderation.actions import (
    STREAM_PREFIX,
    ModerationDenied,
    claim,
    close,
    decide,
    enqueue,
    escalate,
    lock_pending,
    may_review,
    pending_item,
    release,
)
from portal_social.core.moderation.reasons import Reason, from_hold_codes
from portal_social.core.moderation.registry import (
    APPROVE,
    DECISIONS,
    IGNORE,
    REDACT,
    REJECT,
    Decision,
    Kind,
    kinds,
    register,
)

__all__ = [
    "APPROVE",
    "DECISIONS",
    "IGNORE",
    "REDACT",
    "REJECT",
    "STREAM_PREFIX",
    "Decision",
    "Kind",
    "ModerationDenied",
    "Reason",
    "claim",
    "close",
    "decide",
    "enqueue",
    "escalate",
    "from_hold_codes",
    "kinds",
    "lock_pending",
    "may_review",
    "pending_item",
    "register",
    "release",
]
