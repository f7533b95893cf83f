"""Submitting a review: star ratings, an optional comment, screening, and the aggregates."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.conf import app_settings
from portal_social.core import access, audit_events, moderation, ratelimit, screening, text
from portal_social.core.errors import refusal
from portal_social.profiles import reviews
from portal_social.profiles.actions import invitations
from portal_social.profiles.actions._common import (
    TWO_PLACES,
    lock_clinician,
    needs_attention,
    queue,
    refresh_aggregates,
    signed_in,
)
from portal_social.profiles.actions.refusals import ReviewNotAllowed
from portal_social.profiles.models import ClinicianPage, Review, ReviewRating

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = ["screen_comment", "submit_review"]


def _rating_value(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def _validate_ratings(ratings) -> dict[str, int]:
    errors: dict[str, list[str]] = {}
    questions = app_settings.REVIEW_QUESTIONS
    if not isinstance(ratings, dict):
        ratings = {}
    cleaned: dict[str, int] = {}
    for key, label in questions:
        raw = ratings.get(key)
        if raw is None or raw == "":
            errors[key] = [_("Choose a star rating for “%(question)s”.") % {"question": label}]
            continue
        value = _rating_value(raw)
        if value is None or not 1 <= value <= 5:
            errors[key] = [_("Choose from 1 to 5 stars for “%(question)s”.") % {"question": label}]
            continue
        cleaned[key] = value
    unknown = set(ratings) - {key for key, _label in questions}
    if unknown:
        errors[NON_FIELD_ERRORS] = [_("Some ratings do not match this review form's questions. Reload the page.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def screen_comment(author, source: str) -> list[dict]:
    """Hold reasons for a comment (empty list: publish it), as codes and PHI kinds.

    Never the text, and never a sentence: ``reviews.describe_hold_reason``
    words each reason when it is shown, in the reader's language. The
    comment goes through ``core.screening`` for the ``review_comment``
    destination: PHI (as written and as a reader sees it), watched words the
    moderators hold or block, and the new-account rule each add a reason.
    Crisis language adds none: a comment is held only for the reasons above.
    """
    if not source:
        return []
    result = screening.screen(source, destination=screening.policy.REVIEW_COMMENT, author=author)
    reasons = []
    found_phi = result.of_kind(screening.policy.PHI)
    if found_phi:
        reasons.append(reviews.phi_reason([f.detail for f in found_phi]))
    held_words = (screening.policy.OUTCOME_HOLD, screening.policy.OUTCOME_BLOCK)
    if any(f.outcome in held_words for f in result.of_kind(screening.policy.WATCHED_WORD)):
        reasons.append(reviews.language_reason())
    if result.of_kind(screening.policy.TRUST):
        reasons.append(reviews.new_account_reason())
    return reasons


def submit_review(
    *,
    author: AbstractBaseUser,
    clinician: ClinicianPage,
    ratings: dict[str, int],
    comment: str = "",
    request: HttpRequest | None = None,
    invitation=None,
) -> Review:
    """Record a patient's star ratings of ``clinician``, with an optional comment.

    Preconditions:

    * ``access.can(author, "review", clinician)``: the page is live and the
      adapter's ``can_review`` agrees (by default: a patient on whose care
      team the clinician is, and not the clinician themselves) — else
      ``ReviewNotAllowed``;
    * fewer than the ``"review"`` rate limit in the window — else ``RateLimited``;
    * every question in ``PORTAL_SOCIAL_REVIEW_QUESTIONS`` has an int 1..5 —
      else ``ValidationError`` keyed by question key;
    * the comment fits ``core.text``'s length limit — else ``ValidationError``
      on ``"comment"``;
    * no review by this author of this clinician in the last 12 months —
      else ``ValidationError`` (non-field). An older review is superseded:
      only the new one counts in the aggregates.

    A comment is screened: PHI (``core.screening``'s ``review_comment``
    destination, which reads it as a reader sees it), watched words and a new
    account each hold it for a moderator with a plain-language reason; a
    clean comment, or none, is published at once. Stars count either way.
    Sends ``content_needs_attention(cause="low_rating")`` after commit when
    the overall rating is 2 or less, invited or not.

    ``invitation`` (a ``ReviewInvitation`` sent to ``author`` for this
    clinician) is completed by this review in the same transaction; one
    already used or lapsed raises ``InvitationUnusable`` and nothing is saved.
    """
    if not signed_in(author) or not access.can(author, "review", clinician):
        raise ReviewNotAllowed()

    cleaned = _validate_ratings(ratings)
    if not isinstance(comment, str):
        raise ValidationError({"comment": [_("Enter your comment as text.")]})
    source = text.stripped(text.normalise(comment))
    try:
        comment_html = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"comment": exc.messages}) from None

    ratelimit.check("review", request=request, user=author)

    hold_reasons = screen_comment(author, source)
    status = Review.Status.HELD if hold_reasons else Review.Status.PUBLISHED
    overall = (Decimal(sum(cleaned.values())) / Decimal(len(cleaned))).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)

    with transaction.atomic():
        lock_clinician(clinician.pk)
        now = timezone.now()
        recent = reviews.recent_review(author, clinician, now)
        if recent is not None:
            raise refusal(reviews.too_soon_message(recent), "too_soon")
        review = Review.objects.create(
            clinician=clinician,
            author=author,
            created_at=now,
            status=status,
            hold_reasons=hold_reasons,
            comment_source=source,
            comment_html=comment_html,
            overall=overall,
        )
        ReviewRating.objects.bulk_create(
            [ReviewRating(review=review, question=key, stars=stars) for key, stars in cleaned.items()]
        )
        if invitation is not None:
            invitations.complete(invitation, review, now=now)
        superseded = Review.objects.filter(
            author=author, clinician=clinician, superseded_by__isnull=True, created_at__lt=now
        ).exclude(pk=review.pk)
        superseded_count = superseded.update(superseded_by=review)
        refresh_aggregates(clinician)
        audit_events.review_submitted(
            actor=author,
            review=review,
            patient=author,
            request=request,
            details={
                "status": str(status),
                "reasons": [reason["code"] for reason in hold_reasons],
                "superseded": superseded_count,
                "invited": invitation is not None,
            },
        )
        if overall <= 2:
            needs_attention(review, "low_rating")
        if status == Review.Status.HELD and source:
            queue(review, moderation.from_hold_codes(hold_reasons), actor=author, request=request)
    return review
