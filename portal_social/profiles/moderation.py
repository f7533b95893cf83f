"""Review moderation in the Wagtail admin: the queue, its decisions, and PX responses.

* ``queue`` (``/cms/portal-social/reviews/``, ``moderate_reviews``): held,
  appealed and newly reported reviews, oldest first, with the hold reasons
  and the scanner's findings highlighted in the comment source. Moderators
  need the source to decide, so opening the queue is audited: one
  ``review.moderation_view`` row per patient whose comment was shown, naming
  that patient and the reviews of theirs shown, so the patient's "who looked
  at my information" finds it. Hold reasons, finding kinds and report reasons
  are shown as labels in the moderator's language, never as codes.
* ``review_action`` (POST): approve, reject with a reason, redact chosen
  findings (or all of them), uphold or dismiss an appeal; each calls an action.
* ``respond_list`` and ``respond`` (``respond_to_reviews``): published reviews
  without a response, and the form for the one public response.

Anyone without the permission gets 404. Every query is bounded: each list
is capped and its related rows are prefetched.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal_social.core import access, audit_events, public_reply, screening
from portal_social.profiles import actions, reviews
from portal_social.profiles.forms import RejectForm, ResponseForm
from portal_social.profiles.models import Review, ReviewAppeal, ReviewReport

#: Reviews shown per section of the queue (oldest first); the rest wait their turn.
QUEUE_LIMIT = 30
RESPOND_PAGE_SIZE = 25


def _require(request, permission: str) -> None:
    if not access.holds(request.user, permission):
        raise Http404()


def _item(review: Review, labels: dict[str, str]) -> dict:
    source = review.comment_source
    # What screening finds now (the author's account age is not a part of the text: no author).
    result = screening.screen(source, destination=screening.policy.REVIEW_COMMENT) if source else None
    findings = [f for f in result.of_kind(screening.policy.PHI) if not f.rendered] if result else []
    words = result.of_kind(screening.policy.WATCHED_WORD) if result else []
    marks = [screening.Span(f.start, f.end, reviews.finding_label(f.detail)) for f in findings]
    marks += [screening.Span(f.start, f.end, reviews.finding_label("language")) for f in words]
    marks += [
        screening.Span(int(s["start"]), int(s["end"]), reviews.finding_label("redacted")) for s in review.redactions
    ]
    redacted = {(int(s["start"]), int(s["end"])) for s in review.redactions}
    return {
        "review": review,
        "segments": screening.highlight(source, marks),
        "findings": [
            {
                "value": f"{f.start}:{f.end}",
                "kind": f.detail,
                "label": reviews.finding_label(f.detail),
                "text": source[f.start : f.end],
                "redacted": (f.start, f.end) in redacted,
            }
            for f in findings
        ],
        "reasons": reviews.describe_hold_reasons(review.hold_reasons),
        "ratings": reviews.rating_rows(review, labels),
        "open_appeal": (getattr(review, "open_appeals", None) or [None])[0],
        "reports": [
            {"created_at": report.created_at, "reason": reviews.describe_report_reason(report.reason)}
            for report in getattr(review, "report_list", [])
        ],
    }


def _sections():
    base = Review.objects.select_related("clinician").prefetch_related("ratings").order_by("created_at", "pk")
    held = base.filter(status=Review.Status.HELD)
    appealed = base.filter(status=Review.Status.APPEALED).prefetch_related(
        Prefetch(
            "appeals",
            queryset=ReviewAppeal.objects.filter(resolved_at__isnull=True).order_by("created_at"),
            to_attr="open_appeals",
        )
    )
    reported = (
        base.filter(status=Review.Status.PUBLISHED)
        .annotate(last_report=Max("reports__created_at"), report_count=Count("reports", distinct=True))
        .filter(last_report__isnull=False)
        .filter(Q(moderated_at__isnull=True) | Q(last_report__gt=F("moderated_at")))
        .prefetch_related(
            Prefetch("reports", queryset=ReviewReport.objects.order_by("created_at"), to_attr="report_list")
        )
        .order_by("last_report", "pk")
    )
    return [
        ("held", _("Held for review"), held),
        ("appealed", _("Appealed by the clinician"), appealed),
        ("reported", _("Reported by readers"), reported),
    ]


def _audit_shown(request, shown: list[Review]) -> None:
    """One ``review.moderation_view`` event per patient whose comments were shown, naming that patient.

    Bounded: at most ``QUEUE_LIMIT`` reviews per section are shown, so at
    most three times that many events. Details hold review ids only.
    """
    by_patient: dict[int, list[Review]] = {}
    for review in shown:
        by_patient.setdefault(review.author_id, []).append(review)
    for patient_id, theirs in by_patient.items():
        audit_events.review_queue_viewed(actor=request.user, reviews=theirs, patient=patient_id, request=request)


def queue(request):
    """The moderation queue. Shows comment sources (which may hold PHI): audited per patient shown."""
    _require(request, reviews.MODERATE)
    labels = reviews.question_labels()
    sections, shown = [], []
    for key, title, queryset in _sections():
        total = queryset.count()
        items = [_item(review, labels) for review in queryset[:QUEUE_LIMIT]] if total else []
        shown += [item["review"] for item in items]
        sections.append({"key": key, "title": title, "total": total, "items": items, "limit": QUEUE_LIMIT})
    _audit_shown(request, shown)
    return render(
        request,
        "portal_social/profiles/admin/queue.html",
        {"sections": sections, "header_title": _("Review moderation"), "reject_form": RejectForm()},
    )


#: At most this many parts of one comment can be chosen in one decision (the form offers one per finding).
MAX_SPANS = 200
# An offset: ASCII digits only, and few of them. str.isdigit() accepts "²" and "٣", which int()
# refuses or reads in another script, and int() refuses more than 4,300 digits: either would
# turn a tampered form into a server error. No comment is longer than a few hundred thousand
# characters, so seven digits are plenty.
_OFFSET_DIGITS = 7


def _offset(value: str) -> int | None:
    if 0 < len(value) <= _OFFSET_DIGITS and value.isascii() and value.isdecimal():
        return int(value)
    return None


def _spans(values: list[str]) -> list[tuple[int, int]]:
    """The ``start:end`` offsets a moderator chose; ``ValidationError`` for anything else."""
    if len(values) > MAX_SPANS:
        raise ValidationError({"spans": [_("Too many parts of the comment are selected.")]})
    spans = []
    for value in values:
        start, _sep, end = value.partition(":")
        start_offset, end_offset = _offset(start), _offset(end)
        if start_offset is None or end_offset is None:
            raise ValidationError({"spans": [_("A selected part of the comment is not valid.")]})
        spans.append((start_offset, end_offset))
    return spans


@require_POST
def review_action(request, review_id):
    """Apply one moderator decision to one review, then go back to the queue."""
    _require(request, reviews.MODERATE)
    review = get_object_or_404(access.visible(request.user, Review.objects.select_related("clinician")), pk=review_id)
    decision = request.POST.get("action", "")
    user = request.user
    try:
        if decision == "approve":
            actions.approve_review(moderator=user, review=review, request=request)
            done = _("The review is published.")
        elif decision == "reject":
            actions.reject_review(moderator=user, review=review, reason=request.POST.get("reason", ""), request=request)
            done = _("The comment is rejected; its star ratings still count.")
        elif decision == "redact":
            use_all = request.POST.get("all_findings") == "on"
            actions.redact_review(
                moderator=user,
                review=review,
                spans=_spans(request.POST.getlist("span")),
                use_findings=use_all,
                request=request,
            )
            done = _("The selected parts are hidden and the review is published.")
        elif decision in ("uphold", "dismiss"):
            appeal = review.appeals.filter(resolved_at__isnull=True).order_by("created_at").first()
            if appeal is None:
                raise ValidationError(_("This review has no open appeal."))
            actions.resolve_appeal(moderator=user, appeal=appeal, upheld=decision == "uphold", request=request)
            done = (
                _("Appeal upheld: the comment is removed.")
                if decision == "uphold"
                else _("Appeal dismissed: the comment is published again.")
            )
        else:
            raise ValidationError(_("Choose a decision."))
    except PermissionDenied:
        raise Http404() from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("portal_social_review_queue"))


def respond_list(request):
    """Published reviews still without a response, newest first (PX staff)."""
    _require(request, reviews.RESPOND)
    waiting = (
        Review.objects.published()
        .filter(response__isnull=True)
        .select_related("clinician")
        .prefetch_related("ratings")
        .order_by("-created_at", "pk")
    )
    page = Paginator(waiting, RESPOND_PAGE_SIZE).get_page(request.GET.get("p"))
    labels = reviews.question_labels()
    items = [
        {"review": review, "text": reviews.public_comment_text(review), "ratings": reviews.rating_rows(review, labels)}
        for review in page
    ]
    return render(
        request,
        "portal_social/profiles/admin/respond_list.html",
        {"page": page, "items": items, "header_title": _("Respond to reviews")},
    )


def respond(request, review_id):
    """The one public response to a published review (PX staff)."""
    _require(request, reviews.RESPOND)
    review = get_object_or_404(Review.objects.published().select_related("clinician"), pk=review_id)
    if not access.can(request.user, "respond", review):
        raise Http404()
    existing = getattr(review, "response", None)
    form = ResponseForm(request.POST if request.method == "POST" else None)
    guidance = ()
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            actions.respond_to_review(
                staff=request.user, review=review, body=form.cleaned_data["body"], request=request
            )
        except actions.ResponseDenied:
            raise Http404() from None
        except ValidationError as exc:
            form.add_action_errors(exc)
            if any(error.code == "phi" for error in getattr(exc, "error_dict", {}).get("body", ())):
                guidance = public_reply.GUIDANCE  # held: how to answer in public instead
        else:
            messages.success(request, _("Your response is published under the review."))
            return HttpResponseRedirect(reverse("portal_social_review_respond_list"))
    return render(
        request,
        "portal_social/profiles/admin/respond_form.html",
        {
            "review": review,
            "text": reviews.public_comment_text(review),
            "ratings": reviews.rating_rows(review),
            "existing": existing,
            "form": form,
            "guidance": guidance,
            "header_title": _("Respond to a review"),
        },
    )
