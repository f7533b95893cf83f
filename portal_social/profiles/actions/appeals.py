"""A clinician's appeal against a comment, and the moderator's decision on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.core import access, audit_events, locking, moderation, notify, text, user_text
from portal_social.profiles.actions._common import (
    APPEAL_MAX_LENGTH,
    item_details,
    locked_review,
    moderate,
    queue,
    refresh_aggregates,
    require_moderator,
    signed_in,
    sync_review,
)
from portal_social.profiles.actions.refusals import AppealDenied
from portal_social.profiles.models import Review, ReviewAppeal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = ["appeal_review", "resolve_appeal"]


def appeal_review(
    *, clinician_user: AbstractBaseUser, review: Review, reason: str, request: HttpRequest | None = None
) -> ReviewAppeal:
    """The reviewed clinician asks a moderator to remove a published comment.

    The comment is hidden (status ``appealed``) while the appeal is open;
    the stars keep counting.

    Preconditions: ``clinician_user`` is the account linked to the reviewed
    ``ClinicianPage`` (else ``AppealDenied``); the review is published, has
    a comment and was never appealed before; ``reason`` is 1..2000
    characters — else ``ValidationError``.
    """
    if not signed_in(clinician_user) or not access.can(clinician_user, "appeal", review):
        raise AppealDenied()
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=APPEAL_MAX_LENGTH,
        empty_message=_("Tell the moderators why this comment should be removed."),
    )
    user_text.validate(ReviewAppeal, {"reason": reason})
    with transaction.atomic():
        locked = locked_review(review)
        if not locked.comment_source:
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("This review has no comment. Star ratings cannot be appealed.")]}
            )
        if locked.appeals.exists():
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment has already been appealed.")]})
        if locked.status != Review.Status.PUBLISHED:
            raise ValidationError({NON_FIELD_ERRORS: [_("Only published comments can be appealed.")]})
        appeal = ReviewAppeal.objects.create(review=locked, clinician_user=clinician_user, reason=reason)
        locked.status = Review.Status.APPEALED
        locked.save(update_fields=["status"])
        audit_events.review_appealed(
            actor=clinician_user,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"appeal": str(appeal.pk)},
        )
        queue(
            locked,
            [moderation.Reason("appeal", added_by=clinician_user, details={"appeal": str(appeal.pk)})],
            actor=clinician_user,
            request=request,
        )
    sync_review(review, locked)
    return appeal


def resolve_appeal(
    *, moderator: AbstractBaseUser, appeal: ReviewAppeal, upheld: bool, request: HttpRequest | None = None
) -> ReviewAppeal:
    """Decide a clinician's appeal: upheld rejects the comment (stars still count), else it is republished.

    Preconditions: ``moderator`` holds ``portal_social.moderate_reviews``
    (else ``ModerationDenied``); the appeal is still open — else
    ``ValidationError``. The clinician is told, in generic words.

    Locks the review, then the appeal (the order every review action
    uses), and reads the appeal's state only once both are held: of two
    moderators deciding one appeal at once, the second waits for the
    first to commit, then finds it decided.
    """
    require_moderator(moderator, appeal.review)
    with transaction.atomic():
        review = locked_review(appeal.review)
        locked_appeal = locking.locked(ReviewAppeal.objects.select_related("clinician_user")).get(pk=appeal.pk)
        if locked_appeal.resolved_at is not None:
            raise ValidationError({NON_FIELD_ERRORS: [_("This appeal has already been decided.")]})
        now = timezone.now()
        ReviewAppeal.objects.filter(pk=appeal.pk).update(resolved_at=now, upheld=bool(upheld))
        if upheld:
            item = moderate(
                review, moderator, Review.Status.REJECTED, rejection_reason=_("Removed after the clinician's appeal.")
            )
        else:
            item = moderate(review, moderator, Review.Status.PUBLISHED, rejection_reason="")
        refresh_aggregates(review.clinician)
        audit_events.appeal_resolved(
            actor=moderator,
            review=review,
            patient=review.author_id,
            request=request,
            details={"appeal": str(appeal.pk), "upheld": bool(upheld), **item_details(item)},
        )
        notify.notify(locked_appeal.clinician_user, "review.appeal_decided")
    appeal.resolved_at, appeal.upheld = now, bool(upheld)
    sync_review(appeal.review, review)
    return appeal
