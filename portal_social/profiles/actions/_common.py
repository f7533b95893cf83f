"""What every review action shares: locks, the rating aggregates, the moderator check,
the moderators' notification and the attention signal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone

from portal_social import signals
from portal_social.core import access, locking, moderation
from portal_social.profiles import moderation as review_moderation  # noqa: F401  (registers the review kind)
from portal_social.profiles import notifications  # noqa: F401  (registers the review notifications)
from portal_social.profiles.actions.refusals import ModerationDenied
from portal_social.profiles.models import ClinicianPage, ClinicianRating, Review

#: The longest reason a reporter or a moderator gives, and the longest appeal.
REASON_MAX_LENGTH = 300
APPEAL_MAX_LENGTH = 2000
TWO_PLACES = Decimal("0.01")


#: The queue's decision for each status a moderator leaves a review in.
_ITEM_STATUS = {Review.Status.PUBLISHED: "approved", Review.Status.REJECTED: "rejected"}


def moderate(review: Review, moderator, status: str, **fields):
    """Record a moderator's decision on a locked ``review``: its status, who and when, and ``fields``.

    Closes the review's pending queue item, if any, with the matching
    decision, and returns it (None when nothing was pending).
    """
    review.status = status
    review.moderated_by = moderator
    review.moderated_at = timezone.now()
    for name, value in fields.items():
        setattr(review, name, value)
    review.save(
        update_fields=["status", "moderated_by", "moderated_at", *fields],
    )
    return moderation.close(review, status=_ITEM_STATUS[status], moderator=moderator)


def item_details(item) -> dict:
    """Audit details naming the queue item a decision closed (nothing when none was pending)."""
    return {"item": str(item.pk)} if item is not None else {}


def queue(review: Review, reasons: list, *, actor=None, request=None):
    """Put ``review`` in the moderation queue (or add to its pending item) for ``reasons``."""
    return moderation.enqueue(review, kind=review_moderation.KIND, reasons=reasons, actor=actor, request=request)


def signed_in(user) -> bool:
    """An active, signed-in account (anonymous and deactivated people are refused before any rule)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def lock_clinician(clinician_id) -> None:
    """Serialise writers on one clinician's reviews (row lock; SQLite locks the database on write)."""
    lock_clinicians([clinician_id])


def lock_clinicians(clinicians) -> None:
    """Lock the clinicians' pages (ids or pages), in id order, inside the caller's transaction.

    Writers of reviews lock a clinician's page before anything else; another feature's write that links
    clinicians (a feedback case checks that link at commit) takes the page rows first as well, so the two
    can never wait on each other in a circle."""
    ids = sorted({getattr(c, "pk", c) for c in clinicians or ()})
    if ids:
        list(locking.locked(ClinicianPage.objects.filter(pk__in=ids).order_by("pk")).values_list("pk", flat=True))


def refresh_aggregates(clinician: ClinicianPage) -> ClinicianRating:
    """Recompute the clinician's ``ClinicianRating`` from counted, not superseded, reviews.

    Call inside the action's transaction. The rating row is created if
    missing, then locked (``core.locking``) before the reviews are
    counted, so two moderators deciding reviews of one clinician at once
    cannot leave a stale total: the second counts after the first commits.
    The aggregates live outside the page, so page revisions never carry them.
    """
    ClinicianRating.objects.get_or_create(clinician_id=clinician.pk)
    list(locking.locked(ClinicianRating.objects.filter(pk=clinician.pk)).values_list("pk", flat=True))
    totals = Review.objects.counted().filter(clinician_id=clinician.pk).aggregate(n=Count("pk"), avg=Avg("overall"))
    count = totals["n"] or 0
    average = None
    if count and totals["avg"] is not None:
        average = Decimal(str(totals["avg"])).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    ClinicianRating.objects.filter(pk=clinician.pk).update(count=count, average=average)
    summary = ClinicianRating(clinician_id=clinician.pk, count=count, average=average)
    clinician.rating = summary
    return summary


def needs_attention(review: Review, cause: str) -> None:
    """After commit, ``content_needs_attention`` for ``review`` (the feedback feature opens a case)."""
    transaction.on_commit(
        lambda: signals.content_needs_attention.send(
            sender=Review, target=review, cause=cause, author_id=review.author_id
        ),
        robust=True,
    )


def require_moderator(moderator, review: Review) -> None:
    """Raise ``ModerationDenied`` unless the access policy lets ``moderator`` moderate ``review``."""
    if not signed_in(moderator) or not access.can(moderator, "moderate", review):
        raise ModerationDenied()


def locked_review(review: Review) -> Review:
    """Re-read ``review`` inside the transaction, locked where the database can.

    Its pending queue item is locked first: the order every moderation path
    takes (``core.moderation.actions``).
    """
    moderation.lock_pending(review)
    return locking.locked(Review.objects.select_related("clinician")).get(pk=review.pk)


def sync_review(target: Review, source: Review) -> None:
    """Copy the saved state back onto the caller's instance."""
    for field in (
        "status",
        "hold_reasons",
        "redactions",
        "comment_html",
        "moderated_by_id",
        "moderated_at",
        "rejection_reason",
        "superseded_by_id",
    ):
        setattr(target, field, getattr(source, field))
