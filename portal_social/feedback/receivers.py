"""Content elsewhere in the portal that needs service recovery becomes a case.

``signals.content_needs_attention`` is sent after commit by reviews (a low
rating, a report) and communities (a post flagged as a complaint about
care). It carries the object and a cause, never the text. A failure here is
logged and never breaks the action that sent the signal.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from portal_social import signals

logger = logging.getLogger("portal_social.feedback")


@receiver(signals.content_needs_attention, dispatch_uid="portal_social_feedback_case_from_content")
def _open_case(sender, target=None, cause: str = "", author_id=None, **kwargs) -> None:
    from portal_social.feedback.actions import case_from_content

    if target is None or getattr(target, "pk", None) is None:
        return
    try:
        case_from_content(model_label=sender._meta.label_lower, target=target, cause=cause, author_id=author_id)
    except Exception:  # the review or post stands; staff can still enter the case by hand
        logger.exception("feedback case not opened for %s (%s)", sender._meta.label_lower, cause)
