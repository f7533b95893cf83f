"""A moderator's decisions on a review: approve, reject the comment, or redact parts of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal_social.core import audit_events, notify, screening, text, user_text
from portal_social.profiles.actions._common import (
    REASON_MAX_LENGTH,
    item_details,
    locked_review,
    moderate,
    refresh_aggregates,
    require_moderator,
    sync_review,
)
from portal_social.profiles.models import Review

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = ["approve_review", "redact_review", "reject_review"]


def approve_review(*, moderator: AbstractBaseUser, review: Review, request: HttpRequest | None = None) -> Review:
    """Publish a held comment as written, or keep a reported one published (clears the reports from the queue).

    Preconditions: ``moderator`` holds ``portal_social.moderate_reviews``
    (else ``ModerationDenied``); the review is held, published or rejected,
    not under appeal (use :func:`resolve_appeal`) — else ``ValidationError``.
    The author is told, in generic words.
    """
    require_moderator(moderator, review)
    with transaction.atomic():
        locked = locked_review(review)
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        previous = locked.status
        item = moderate(locked, moderator, Review.Status.PUBLISHED, rejection_reason="")
        refresh_aggregates(locked.clinician)
        audit_events.review_approved(
            actor=moderator,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"from": previous, **item_details(item)},
        )
        if previous != Review.Status.PUBLISHED:
            notify.notify(locked.author, "review.published")
    sync_review(review, locked)
    return review


def reject_review(
    *, moderator: AbstractBaseUser, review: Review, reason: str, request: HttpRequest | None = None
) -> Review:
    """Hide a review's comment for good (its stars still count), with a reason for the record.

    Preconditions: ``moderator`` holds ``portal_social.moderate_reviews``
    (else ``ModerationDenied``); ``reason`` is 1..300 characters and the
    review is not under appeal — else ``ValidationError``. The author is
    told in generic words, with a pointer to the review policy.
    """
    require_moderator(moderator, review)
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Give a reason for rejecting this comment."),
    )
    user_text.validate(Review, {"rejection_reason": reason})
    with transaction.atomic():
        locked = locked_review(review)
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        previous = locked.status
        item = moderate(locked, moderator, Review.Status.REJECTED, rejection_reason=reason)
        refresh_aggregates(locked.clinician)
        audit_events.review_rejected(
            actor=moderator,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"from": previous, **item_details(item)},
        )
        notify.notify(locked.author, "review.comment_rejected")
    sync_review(review, locked)
    return review


def redact_review(
    *,
    moderator: AbstractBaseUser,
    review: Review,
    spans: list[tuple[int, int]] | None = None,
    use_findings: bool = True,
    request: HttpRequest | None = None,
) -> Review:
    """Hide only the offending parts of a comment, then publish it.

    What is hidden: each ``(start, end)`` span of ``comment_source`` in
    ``spans``, plus, with ``use_findings`` (the "all findings" choice),
    every finding ``core.phi.scan`` makes in the comment. ``spans=None``
    with ``use_findings`` hides every finding. A span that matches a finding
    is labelled with its kind ("[phone removed]"); any other span becomes
    "[details removed]". Earlier redactions are kept. ``comment_source``
    keeps the original for moderators; ``comment_html`` is re-rendered
    from the redacted text.

    Preconditions: ``moderator`` holds ``portal_social.moderate_reviews``
    (else ``ModerationDenied``); the review has a comment, is not under
    appeal, each span lies inside the comment, and something is to be
    hidden — else ``ValidationError``.
    """
    require_moderator(moderator, review)
    with transaction.atomic():
        locked = locked_review(review)
        source = locked.comment_source
        if not source:
            raise ValidationError({NON_FIELD_ERRORS: [_("This review has no comment to redact.")]})
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        merged, redacted = screening.moderator_redaction(
            source,
            spans=spans or (),
            use_findings=use_findings,
            previous=locked.redactions,
            outside_message=_("A selected part is outside the comment."),
            empty_message=_("Choose at least one part of the comment to hide."),
        )
        redactions = [{"start": span.start, "end": span.end, "kind": span.label} for span in merged]
        previous_status = locked.status
        item = moderate(
            locked,
            moderator,
            Review.Status.PUBLISHED,
            redactions=redactions,
            comment_html=text.render(redacted),
            rejection_reason="",
        )
        audit_events.review_redacted(
            actor=moderator,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={
                "from": previous_status,
                "spans": len(redactions),
                "kinds": sorted({span["kind"] for span in redactions}),
                **item_details(item),
            },
        )
        notify.notify(locked.author, "review.published_redacted")
    sync_review(review, locked)
    return review
