"""What others add to a published review: patient-experience staff's public response, and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal_social.core import access, audit_events, notify, phi, ratelimit, screening, text, user_text
from portal_social.core.errors import refusal
from portal_social.profiles import reviews
from portal_social.profiles.actions._common import (
    REASON_MAX_LENGTH,
    locked_review,
    needs_attention,
    queue,
    signed_in,
)
from portal_social.profiles.actions.refusals import ReportDenied, ResponseDenied
from portal_social.profiles.models import Review, ReviewReport, ReviewResponse

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = ["report_review", "respond_to_review"]


def _refusal(result: screening.Result) -> ValidationError:
    """Why a public response cannot be posted: the personal details found (by kind, never the text),
    or the language the review policy does not allow."""
    held = (screening.policy.OUTCOME_HOLD, screening.policy.OUTCOME_BLOCK)
    kinds = (screening.policy.PHI, screening.policy.DISCLOSURE)
    found = [f for f in result.findings if f.kind in kinds and f.outcome in held]
    if found:
        # Worded by the register of user text, naming the kinds found (its findings carry no text).
        worded = user_text.Screening(
            user_text.destination_of(ReviewResponse, "body_source"),
            shown=[phi.Finding(f.detail, 0, 0, "") for f in found],
        )
        return ValidationError(worded.message(), code="phi")
    return ValidationError(
        _("Responses are public, so they cannot include language that our review policy does not allow."),
        code="language",
    )


def respond_to_review(
    *, staff: AbstractBaseUser, review: Review, body: str, request: HttpRequest | None = None
) -> ReviewResponse:
    """Post the one public response patient-experience staff may give to a published review.

    Preconditions: ``staff`` holds ``portal_social.respond_to_reviews``
    (else ``ResponseDenied``); the review is published and has no response
    yet; ``body`` is not empty, fits ``core.text``'s limit and passes
    ``core.screening`` for the ``staff_public_reply`` destination: no PHI (a
    public reply must not disclose or confirm anything about a patient's
    care: HIPAA; error code ``"phi"``) and no watched word held or blocked
    there (code ``"language"``) — else ``ValidationError`` on ``"body"`` (or
    non-field for the one-response rule).
    """
    if not signed_in(staff) or not access.can(staff, "respond", review):
        raise ResponseDenied()
    if not isinstance(body, str):
        raise ValidationError({"body": [_("Write a response.")]})
    source = text.stripped(text.normalise(body))
    if not source:
        raise ValidationError({"body": [_("Write a response.")]})
    try:
        body_html = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"body": exc.messages}) from None
    # The staff_public_reply screen: PHI, any name, date or wording that confirms care, and watched words.
    result = screening.screen(source, destination=screening.policy.STAFF_PUBLIC_REPLY, author=staff)
    if result.held:
        raise ValidationError({"body": [_refusal(result)]})
    with transaction.atomic():
        locked = locked_review(review)
        if locked.status != Review.Status.PUBLISHED:
            raise ValidationError({NON_FIELD_ERRORS: [_("You can respond once the review is published.")]})
        if ReviewResponse.objects.filter(review=locked).exists():
            raise ValidationError({NON_FIELD_ERRORS: [_("This review already has a response.")]})
        try:
            with transaction.atomic():
                response = ReviewResponse.objects.create(
                    review=locked, author=staff, body_source=source, body_html=body_html
                )
        except IntegrityError:
            raise ValidationError({NON_FIELD_ERRORS: [_("This review already has a response.")]}) from None
        audit_events.review_responded(
            actor=staff,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"response": response.pk},
        )
        notify.notify(locked.author, "review.responded")
    return response


def report_review(
    *, reporter: AbstractBaseUser, review: Review, reason: str, request: HttpRequest | None = None
) -> ReviewReport:
    """Report a published review to the moderators, once per person.

    Preconditions: ``reporter`` is signed in and the review is published
    (else ``ReportDenied``); within the ``"flag"`` rate limit (else
    ``RateLimited``); ``reason`` is 1..300 characters and this person has
    not reported this review before — else ``ValidationError``. Sends
    ``content_needs_attention(cause="reported")`` after commit.
    """
    if not signed_in(reporter):
        raise ReportDenied()
    if not access.can(reporter, "report", review):
        raise ReportDenied(_("This review cannot be reported."))
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Tell us what is wrong with this review."),
    )
    user_text.validate(ReviewReport, {"reason": reason})
    already = _("You have already reported this review. Thank you: a moderator will look at it.")
    if ReviewReport.objects.filter(review=review, reporter=reporter).exists():
        raise refusal(already, "duplicate")
    ratelimit.check("flag", request=request, user=reporter)
    with transaction.atomic():
        # The lock order of every moderation path: the review's pending queue item, then the review,
        # before any row or audit event is written (a moderator deciding it meanwhile waits, or is waited for).
        locked_review(review)
        try:
            with transaction.atomic():
                report = ReviewReport.objects.create(review=review, reporter=reporter, reason=reason)
        except IntegrityError:
            raise refusal(already, "duplicate") from None
        audit_events.review_reported(
            actor=reporter,
            review=review,
            patient=review.author_id,
            request=request,
            details={"report": str(report.pk)},
        )
        needs_attention(review, "reported")
        queue(review, [reviews.report_queue_reason(report, reporter)], actor=reporter, request=request)
    return report
