"""Clinician reviews in the moderation queue: the ``review`` kind of ``core.moderation``.

Reviews enter the queue from their own actions: a comment held by
screening (``submit_review``), a reader's report (``report_review``), a
clinician's appeal (``appeal_review``). Here the review feature tells the
queue how to show a review to a moderator and what each decision does:

* held or reported: approve (publish as written, or keep published), hide
  chosen parts and publish, or reject the comment with a reason (the stars
  still count);
* under appeal: dismiss the appeal (publish again) or uphold it (remove
  the comment).

Each decision is the review's own action (``actions.approve_review``…),
which writes the review's audit event, tells the author or the clinician,
and closes the queue item.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social.core import moderation, roles, screening
from portal_social.core.moderation.presenting import marked_text
from portal_social.profiles import reviews
from portal_social.profiles.models import Review, ReviewAppeal, ReviewReport

KIND = "review"


def load_reviews(ids: list[str]) -> dict[str, Review]:
    """The reviews named by ``ids``, with what the moderator sees, in four queries whatever their number."""
    found = (
        Review.objects.filter(pk__in=ids)
        .select_related("clinician")
        .prefetch_related(
            "ratings",
            Prefetch(
                "appeals",
                queryset=ReviewAppeal.objects.filter(resolved_at__isnull=True).order_by("created_at"),
                to_attr="open_appeals",
            ),
            Prefetch("reports", queryset=ReviewReport.objects.order_by("created_at"), to_attr="report_list"),
        )
    )
    return {str(review.pk): review for review in found}


def present_review(item, review: Review) -> dict:
    """What the moderator sees: the comment as written with the checks' findings highlighted."""
    # What screening finds now (the author's account age is not a part of the text: no author).
    marked = marked_text(
        review.comment_source,
        destination=screening.policy.REVIEW_COMMENT,
        kinds=(screening.policy.PHI, screening.policy.WATCHED_WORD),
        label=lambda f: reviews.finding_label(f.detail if f.kind == screening.policy.PHI else "language"),
        redactions=review.redactions,
        redacted_label=reviews.finding_label("redacted"),
    )
    # The reports that put this item in the queue, not those a moderator already decided.
    flagged = {str(r.details.get("report")) for r in item.reasons.all() if r.code == "flag"}
    return {
        "review": review,
        **marked,
        "hold_reasons": reviews.describe_hold_reasons(review.hold_reasons)
        if review.status == Review.Status.HELD
        else [],
        "ratings": reviews.rating_rows(review, reviews.question_labels()),
        "open_appeal": (getattr(review, "open_appeals", None) or [None])[0],
        "reports": [
            {"created_at": report.created_at, "reason": reviews.describe_report_reason(report.reason)}
            for report in getattr(review, "report_list", [])
            if str(report.pk) in flagged
        ],
    }


def review_decisions(item, review: Review) -> list[moderation.Decision]:
    """What a moderator may decide for this review now."""
    if review.status == Review.Status.APPEALED:
        return [
            moderation.Decision(moderation.REJECT, _lazy("Uphold appeal (remove comment)"), style="danger"),
            moderation.Decision(moderation.APPROVE, _lazy("Dismiss appeal (publish again)")),
        ]
    if review.status == Review.Status.REJECTED:
        return [moderation.Decision(moderation.IGNORE, _lazy("Close: the comment is already rejected"))]
    approve = _lazy("Keep published") if review.status == Review.Status.PUBLISHED else _lazy("Approve as written")
    offered = [moderation.Decision(moderation.APPROVE, approve)]
    if review.comment_source:
        offered.append(
            moderation.Decision(
                moderation.REDACT, _lazy("Hide parts and publish"), chooses_spans=True, style="secondary"
            )
        )
    offered.append(moderation.Decision(moderation.REJECT, _lazy("Reject comment"), needs_reason=True, style="danger"))
    return offered


def decide_review(moderator, item, review: Review, decision: str, data: dict, request=None) -> str:
    """Carry out ``decision`` through the review's own action; returns the moderator's confirmation."""
    from portal_social.profiles import actions  # the actions import this module: registered before any is used

    if review.status == Review.Status.APPEALED:
        appeal = review.appeals.filter(resolved_at__isnull=True).order_by("created_at").first()
        if appeal is None:
            raise ValidationError(_("This review has no open appeal."))
        upheld = decision == moderation.REJECT
        actions.resolve_appeal(moderator=moderator, appeal=appeal, upheld=upheld, request=request)
        if upheld:
            return _("Appeal upheld: the comment is removed.")
        return _("Appeal dismissed: the comment is published again.")
    if decision == moderation.APPROVE:
        actions.approve_review(moderator=moderator, review=review, request=request)
        return _("The review is published.")
    if decision == moderation.REJECT:
        actions.reject_review(moderator=moderator, review=review, reason=data.get("reason", ""), request=request)
        return _("The comment is rejected; its star ratings still count.")
    if decision == moderation.REDACT:
        actions.redact_review(
            moderator=moderator,
            review=review,
            spans=data.get("spans") or [],
            use_findings=bool(data.get("use_findings")),
            request=request,
        )
        return _("The selected parts are hidden and the review is published.")
    raise ValidationError(_("Choose a decision."))


moderation.register(
    moderation.Kind(
        key=KIND,
        model=Review,
        label=_lazy("Clinician review"),
        permission=reviews.MODERATE,
        reviewer_role=roles.COMMUNITY_MODERATOR,
        template="portal_social/profiles/admin/moderation_item.html",
        load=load_reviews,
        present=present_review,
        decisions=review_decisions,
        decide=decide_review,
        author=lambda review: review.author_id,
        notification="review.needs_moderation",
    )
)
