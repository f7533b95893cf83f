"""Reviews, write side: every change to a review goes through a function here.

Each action (house rule 1) checks permission and raises a
``PermissionDenied`` subclass, validates and raises ``ValidationError`` with
messages by field, changes data in one transaction (nothing half-saved),
writes its audit event in that transaction, and defers side effects
(notifications, signals) with ``transaction.on_commit``.

No action logs, audits or notifies with the text of a comment, a response
or a reason: audit details hold ids, statuses, codes and counts only.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social import signals
from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, audit_events, locking, phi, ratelimit, roles, text, user_text
from portal_social.core.errors import Denied
from portal_social.profiles import reviews
from portal_social.profiles.models import (
    ClinicianPage,
    ClinicianRating,
    Review,
    ReviewAppeal,
    ReviewRating,
    ReviewReport,
    ReviewResponse,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = [
    "AppealDenied",
    "ModerationDenied",
    "ProfileChangesDenied",
    "ReportDenied",
    "ResponseDenied",
    "ReviewNotAllowed",
    "appeal_review",
    "approve_review",
    "redact_review",
    "reject_review",
    "report_review",
    "resolve_appeal",
    "respond_to_review",
    "submit_profile_changes",
    "submit_review",
]

REASON_MAX_LENGTH = 300
APPEAL_MAX_LENGTH = 2000
_TWO_PLACES = Decimal("0.01")


# --------------------------------------------------------------------------- refusals


class ReviewNotAllowed(Denied):
    """The person may not review this clinician (not a patient they cared for, or themselves)."""

    default_message = _lazy("You can review clinicians who have cared for you.")
    code = "review_not_allowed"


class ModerationDenied(Denied):
    """Only holders of ``portal_social.moderate_reviews`` moderate reviews."""

    default_message = _lazy("Only review moderators can do that.")
    code = "moderation_denied"


class ResponseDenied(Denied):
    """Only holders of ``portal_social.respond_to_reviews`` post responses."""

    default_message = _lazy("Only patient experience staff can respond to reviews.")
    code = "response_denied"


class AppealDenied(Denied):
    """Only the reviewed clinician's own account may appeal a comment."""

    default_message = _lazy("Only the clinician who was reviewed can appeal a comment.")
    code = "appeal_denied"


class ReportDenied(Denied):
    """Reporting needs a signed-in account and a published review."""

    default_message = _lazy("Sign in to report a review.")
    code = "report_denied"


class ProfileChangesDenied(Denied):
    """Only the clinician linked to a profile page, holding the clinician role, edits it."""

    default_message = _lazy("Only the clinician whose profile this is can change it.")
    code = "profile_changes_denied"


# --------------------------------------------------------------------------- helpers


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _lock_clinician(clinician_id) -> None:
    """Serialise writers on one clinician's reviews (row lock; SQLite locks the database on write)."""
    list(locking.locked(ClinicianPage.objects.filter(pk=clinician_id)).values_list("pk", flat=True))


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
        average = Decimal(str(totals["avg"])).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    ClinicianRating.objects.filter(pk=clinician.pk).update(count=count, average=average)
    summary = ClinicianRating(clinician_id=clinician.pk, count=count, average=average)
    clinician.rating = summary
    return summary


def _notify(request, user, subject: str, body: str) -> None:
    """Tell ``user`` after commit, with generic text only (no comment, no clinician name)."""
    if user is None:
        return
    adapter = get_adapter(request)
    transaction.on_commit(lambda: adapter.notify(user, subject=subject, body=body), robust=True)


def _tell_moderators(request, why: str) -> None:
    """Every active moderator hears there is work in the queue (no content, no names)."""
    roles.notify_role(
        roles.COMMUNITY_MODERATOR,
        subject="A clinician review needs moderation",
        body=f"A review {why}. Open the moderation queue to decide.",
        url_name="portal_social_review_queue",
        request=request,
    )


def _needs_attention(review: Review, cause: str) -> None:
    transaction.on_commit(
        lambda: signals.review_needs_attention.send(sender=Review, review=review, cause=cause), robust=True
    )


def _require_moderator(moderator, review: Review) -> None:
    if not _signed_in(moderator) or not access.can(moderator, "moderate", review):
        raise ModerationDenied()


def _locked_review(review: Review) -> Review:
    """Re-read ``review`` inside the transaction, locked where the database can."""
    return locking.locked(Review.objects.select_related("clinician")).get(pk=review.pk)


def _sync(target: Review, source: Review) -> None:
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


def _rating_value(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


# --------------------------------------------------------------------------- submit


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
    words each reason when it is shown, in the reader's language.
    """
    if not source:
        return []
    reasons = []
    # Through the one register of user text: the comment as written and as a reader sees it.
    screening = user_text.screen_field(Review, "comment_source", source)
    if screening.held:
        reasons.append(reviews.phi_reason([*screening.findings, *screening.shown]))
    if reviews.watched_word_spans(source):
        reasons.append(reviews.language_reason())
    days = app_settings.REVIEW_NEW_ACCOUNT_DAYS
    joined = getattr(author, "date_joined", None)
    if days > 0 and joined is not None and joined > timezone.now() - datetime.timedelta(days=days):
        reasons.append(reviews.new_account_reason())
    return reasons


def submit_review(
    *,
    author: AbstractBaseUser,
    clinician: ClinicianPage,
    ratings: dict[str, int],
    comment: str = "",
    request: HttpRequest | None = None,
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

    A comment is screened: PHI (``core.user_text``'s ``review_comment``
    destination, which reads it as a reader sees it), watched words and a new
    account each hold it for a moderator with a plain-language reason; a
    clean comment, or none, is published at once. Stars count either way.
    Sends ``review_needs_attention(cause="low_rating")`` after commit when
    the overall rating is 2 or less.
    """
    if not _signed_in(author) or not access.can(author, "review", clinician):
        raise ReviewNotAllowed()

    cleaned = _validate_ratings(ratings)
    if not isinstance(comment, str):
        raise ValidationError({"comment": [_("Enter your comment as text.")]})
    source = text.normalise(comment).strip()
    try:
        comment_html = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"comment": exc.messages}) from None

    ratelimit.check("review", request=request, user=author)

    hold_reasons = screen_comment(author, source)
    status = Review.Status.HELD if hold_reasons else Review.Status.PUBLISHED
    overall = (Decimal(sum(cleaned.values())) / Decimal(len(cleaned))).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)

    with transaction.atomic():
        _lock_clinician(clinician.pk)
        now = timezone.now()
        recent = reviews.recent_review(author, clinician, now)
        if recent is not None:
            raise ValidationError({NON_FIELD_ERRORS: [reviews.too_soon_message(recent)]}, code="too_soon")
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
            },
        )
        if overall <= 2:
            _needs_attention(review, "low_rating")
        if status == Review.Status.HELD and source:
            _tell_moderators(request, "is held for review")
    return review


# --------------------------------------------------------------------------- moderation


def _moderate(review: Review, moderator, status: str, **fields) -> None:
    review.status = status
    review.moderated_by = moderator
    review.moderated_at = timezone.now()
    for name, value in fields.items():
        setattr(review, name, value)
    review.save(
        update_fields=["status", "moderated_by", "moderated_at", *fields],
    )


def approve_review(*, moderator: AbstractBaseUser, review: Review, request: HttpRequest | None = None) -> Review:
    """Publish a held comment as written, or keep a reported one published (clears the reports from the queue).

    Preconditions: ``moderator`` holds ``portal_social.moderate_reviews``
    (else ``ModerationDenied``); the review is held, published or rejected,
    not under appeal (use :func:`resolve_appeal`) — else ``ValidationError``.
    The author is told, in generic words.
    """
    _require_moderator(moderator, review)
    with transaction.atomic():
        locked = _locked_review(review)
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        previous = locked.status
        _moderate(locked, moderator, Review.Status.PUBLISHED, rejection_reason="")
        refresh_aggregates(locked.clinician)
        audit_events.review_approved(
            actor=moderator,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"from": previous},
        )
        if previous != Review.Status.PUBLISHED:
            _notify(
                request,
                locked.author,
                _("Your review is published"),
                _("A moderator has read your review of a clinician and published it. Thank you for your feedback."),
            )
    _sync(review, locked)
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
    _require_moderator(moderator, review)
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Give a reason for rejecting this comment."),
    )
    user_text.validate(Review, {"rejection_reason": reason})
    with transaction.atomic():
        locked = _locked_review(review)
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        previous = locked.status
        _moderate(locked, moderator, Review.Status.REJECTED, rejection_reason=reason)
        refresh_aggregates(locked.clinician)
        audit_events.review_rejected(
            actor=moderator,
            review=locked,
            patient=locked.author_id,
            request=request,
            details={"from": previous},
        )
        _notify(
            request,
            locked.author,
            _("About your review"),
            _(
                "A moderator read your review of a clinician. Your star ratings count, but the comment will "
                "not be shown because it does not meet our review policy."
            ),
        )
    _sync(review, locked)
    return review


def _merge_spans(spans: list[tuple[int, int, str]]) -> list[dict]:
    merged: list[list] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            if end - start > merged[-1][1] - merged[-1][0]:
                merged[-1][2] = kind
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    return [{"start": start, "end": end, "kind": kind} for start, end, kind in merged]


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
    _require_moderator(moderator, review)
    with transaction.atomic():
        locked = _locked_review(review)
        source = locked.comment_source
        if not source:
            raise ValidationError({NON_FIELD_ERRORS: [_("This review has no comment to redact.")]})
        if locked.status == Review.Status.APPEALED:
            raise ValidationError({NON_FIELD_ERRORS: [_("This comment is under appeal: decide the appeal instead.")]})
        findings = phi.scan(source)
        chosen: list[tuple[int, int, str]] = []
        if use_findings:
            chosen += [(f.start, f.end, f.kind) for f in findings]
        for span in spans or ():
            try:
                start, end = (int(part) for part in span)
            except (TypeError, ValueError):
                raise ValidationError({"spans": [_("A selected part of the comment is not valid.")]}) from None
            if not 0 <= start < end <= len(source):
                raise ValidationError({"spans": [_("A selected part is outside the comment.")]})
            kind = next((f.kind for f in findings if f.start == start and f.end == end), "details")
            chosen.append((start, end, kind))
        if not chosen:
            raise ValidationError({"spans": [_("Choose at least one part of the comment to hide.")]})
        previous = [(int(s["start"]), int(s["end"]), str(s.get("kind") or "details")) for s in locked.redactions]
        redactions = _merge_spans(previous + chosen)
        redacted = phi.redact(source, reviews.redaction_findings(source, redactions))
        previous_status = locked.status
        _moderate(
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
            },
        )
        _notify(
            request,
            locked.author,
            _("Your review is published"),
            _(
                "A moderator published your review of a clinician with some personal details hidden, to protect "
                "your privacy."
            ),
        )
    _sync(review, locked)
    return review


# --------------------------------------------------------------------------- appeals


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
    if not _signed_in(clinician_user) or not access.can(clinician_user, "appeal", review):
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
        locked = _locked_review(review)
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
        _tell_moderators(request, "was appealed by the clinician")
    _sync(review, locked)
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
    _require_moderator(moderator, appeal.review)
    with transaction.atomic():
        review = _locked_review(appeal.review)
        locked_appeal = locking.locked(ReviewAppeal.objects.select_related("clinician_user")).get(pk=appeal.pk)
        if locked_appeal.resolved_at is not None:
            raise ValidationError({NON_FIELD_ERRORS: [_("This appeal has already been decided.")]})
        now = timezone.now()
        ReviewAppeal.objects.filter(pk=appeal.pk).update(resolved_at=now, upheld=bool(upheld))
        if upheld:
            _moderate(
                review, moderator, Review.Status.REJECTED, rejection_reason=_("Removed after the clinician's appeal.")
            )
        else:
            _moderate(review, moderator, Review.Status.PUBLISHED, rejection_reason="")
        refresh_aggregates(review.clinician)
        audit_events.appeal_resolved(
            actor=moderator,
            review=review,
            patient=review.author_id,
            request=request,
            details={"appeal": str(appeal.pk), "upheld": bool(upheld)},
        )
        _notify(
            request,
            locked_appeal.clinician_user,
            _("Your appeal has been decided"),
            _("A moderator has decided the appeal you made about a review. Sign in to see your profile."),
        )
    appeal.resolved_at, appeal.upheld = now, bool(upheld)
    _sync(appeal.review, review)
    return appeal


# --------------------------------------------------------------------------- responses


def respond_to_review(
    *, staff: AbstractBaseUser, review: Review, body: str, request: HttpRequest | None = None
) -> ReviewResponse:
    """Post the one public response patient-experience staff may give to a published review.

    Preconditions: ``staff`` holds ``portal_social.respond_to_reviews``
    (else ``ResponseDenied``); the review is published and has no response
    yet; ``body`` is not empty, fits ``core.text``'s limit and contains no
    PHI (a public reply must not disclose or confirm anything about a
    patient's care: HIPAA) — else ``ValidationError`` on ``"body"`` (or
    non-field for the one-response rule).
    """
    if not _signed_in(staff) or not access.can(staff, "respond", review):
        raise ResponseDenied()
    if not isinstance(body, str):
        raise ValidationError({"body": [_("Write a response.")]})
    source = text.normalise(body).strip()
    if not source:
        raise ValidationError({"body": [_("Write a response.")]})
    try:
        body_html = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"body": exc.messages}) from None
    # The staff_public_reply screen: PHI, and any name, date or wording that confirms care.
    screening = user_text.screen_field(ReviewResponse, "body_source", source)
    if screening.held:
        raise ValidationError({"body": [ValidationError(screening.message(), code="phi")]})
    with transaction.atomic():
        locked = _locked_review(review)
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
        _notify(
            request,
            locked.author,
            _("A response to your review"),
            _("Our patient experience team has responded to your review of a clinician."),
        )
    return response


# --------------------------------------------------------------------------- reports


def report_review(
    *, reporter: AbstractBaseUser, review: Review, reason: str, request: HttpRequest | None = None
) -> ReviewReport:
    """Report a published review to the moderators, once per person.

    Preconditions: ``reporter`` is signed in and the review is published
    (else ``ReportDenied``); within the ``"flag"`` rate limit (else
    ``RateLimited``); ``reason`` is 1..300 characters and this person has
    not reported this review before — else ``ValidationError``. Sends
    ``review_needs_attention(cause="reported")`` after commit.
    """
    if not _signed_in(reporter):
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
        raise ValidationError({NON_FIELD_ERRORS: [already]}, code="duplicate")
    ratelimit.check("flag", request=request, user=reporter)
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = ReviewReport.objects.create(review=review, reporter=reporter, reason=reason)
        except IntegrityError:
            raise ValidationError({NON_FIELD_ERRORS: [already]}, code="duplicate") from None
        audit_events.review_reported(
            actor=reporter,
            review=review,
            patient=review.author_id,
            request=request,
            details={"report": str(report.pk)},
        )
        _needs_attention(review, "reported")
        _tell_moderators(request, "was reported")
    return report


# --------------------------------------------------------------------------- self-service profile changes

#: The longest biography and pronouns a clinician may write (the form shows the same limits).
BIO_MAX_LENGTH = 5000
PRONOUNS_MAX_LENGTH = 40
#: The free-text fields a clinician writes, each a registered ``ClinicianPage`` field of the same name.
PROFILE_TEXT_FIELDS = ("pronouns", "bio")


_workflow_emails_deferred = False


def _deferring(notifier):
    """``notifier`` run once the surrounding transaction commits (at once outside one)."""

    def deferred(sender=None, **kwargs):
        transaction.on_commit(lambda: notifier(sender=sender, **kwargs), robust=True)

    deferred.__wrapped__ = notifier
    return deferred


def defer_workflow_submission_emails() -> None:
    """Send Wagtail's "submitted for approval" emails after commit, never from a rolled-back submission.

    Wagtail sends them from inside ``Workflow.start``; this swaps its two
    receivers (same ``dispatch_uid``) for ones that wait for the commit.
    Idempotent; call it once Wagtail's admin app is ready.
    """
    global _workflow_emails_deferred
    if _workflow_emails_deferred:
        return
    from wagtail.admin import signal_handlers
    from wagtail.models import TaskState, WorkflowState
    from wagtail.signals import task_submitted, workflow_submitted

    for signal, sender, uid, notifier in (
        (
            workflow_submitted,
            WorkflowState,
            "workflow_state_submitted_email_notification",
            signal_handlers.workflow_submission_email_notifier,
        ),
        (
            task_submitted,
            TaskState,
            "group_approval_task_submitted_email_notification",
            signal_handlers.task_submission_email_notifier,
        ),
    ):
        signal.disconnect(sender=sender, dispatch_uid=uid)
        signal.connect(_deferring(notifier), sender=sender, dispatch_uid=uid, weak=False)
    _workflow_emails_deferred = True


def _bio_html(bio: str) -> str:
    """The biography as the page's rich text: rendered once by ``core.text`` (Markdown, sanitised)."""
    try:
        return text.render(bio) if bio else ""
    except text.TextTooLong as exc:
        raise ValidationError({"bio": exc.messages}) from None


def submit_profile_changes(
    *, clinician_user: AbstractBaseUser, page: ClinicianPage, data: dict, request: HttpRequest | None = None
):
    """Save ``data`` as a new draft revision of ``page`` and submit it to the approval workflow.

    Nothing reaches the public page until an approver approves the draft in
    the Wagtail admin. A submission still waiting is replaced by this one.

    Preconditions: ``access.can(clinician_user, "edit_profile", page)`` —
    the account linked to the page, holding the clinician role — else
    ``ProfileChangesDenied`` (views answer 404, as for a missing page);
    ``pronouns`` (up to 40 characters) and ``bio`` (up to 5,000) pass the
    ``public_profile`` screen of ``core.user_text`` (PHI, and any particular
    patient) — else ``ValidationError`` by field, naming only the kind found.
    ``data`` also holds ``accepting_new_patients``, ``telehealth``,
    ``languages`` and ``conditions``. The biography is rendered by
    ``core.text``. Writes ``profile.submit_changes``; Wagtail's emails to
    approvers go after commit. Returns the revision.
    """
    if not _signed_in(clinician_user) or not access.can(clinician_user, "edit_profile", page):
        raise ProfileChangesDenied()
    pronouns = text.clean_plain(
        data.get("pronouns", ""), field="pronouns", required=False, max_length=PRONOUNS_MAX_LENGTH
    )
    bio = text.clean_plain(data.get("bio", ""), field="bio", required=False, max_length=BIO_MAX_LENGTH)
    # The same public_profile screen the form runs, here too: the action is the gate, the form a courtesy.
    user_text.validate(ClinicianPage, {"pronouns": pronouns, "bio": bio})
    bio_html = _bio_html(bio)
    defer_workflow_submission_emails()
    with transaction.atomic():
        draft = page.get_latest_revision_as_object()
        draft.pronouns = pronouns
        draft.bio = bio_html
        draft.accepting_new_patients = bool(data.get("accepting_new_patients"))
        draft.telehealth = bool(data.get("telehealth"))
        draft.languages = list(data.get("languages") or ())
        draft.conditions = list(data.get("conditions") or ())
        revision = draft.save_revision(user=clinician_user, log_action=True)
        state = page.current_workflow_state
        if state is not None:
            state.cancel(user=clinician_user)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, clinician_user)
        audit_events.profile_changes_submitted(
            actor=clinician_user,
            page=page,
            request=request,
            details={"revision": revision.pk, "workflow": workflow is not None},
        )
    return revision
