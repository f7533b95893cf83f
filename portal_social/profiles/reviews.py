"""Reviews, read side: who may see or do what to a review, and the profile page's review section.

Write paths live in :mod:`portal_social.profiles.actions`. This module holds:

* the access rules for :class:`~portal_social.profiles.models.Review`
  (registered on import; ``actions`` imports this module, and the Wagtail
  hooks import ``actions``, so they are registered at start-up);
* the access rules for :class:`~portal_social.profiles.models.ClinicianPage`
  ("review": may write a review of this clinician; "edit_profile": may edit
  this profile through self-service);
* the hold reasons shared by actions and the moderation queue, stored as
  codes and described in the reader's language by :func:`describe_hold_reason`
  (the screening itself is ``core.screening``), and the public text of a
  redacted comment;
* :func:`profile_context`, what ``ClinicianPage.get_context`` adds for the
  ``_reviews.html`` section, in a fixed number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Paginator
from django.db.models import Avg, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, phi, screening
from portal_social.profiles.models import ClinicianPage, Review, ReviewRating

MODERATE = "portal_social.moderate_reviews"
RESPOND = "portal_social.respond_to_reviews"
EDIT_OWN_PROFILE = "portal_social.edit_own_profile"

#: Published reviews per page of the profile's review list.
REVIEWS_PER_PAGE = 10
#: The query-string parameter that pages the review list.
PAGE_PARAM = "reviews_page"

#: How each PHI kind is named to a reader ("It may contain … a phone number").
_KIND_PHRASES = {
    "name": gettext_lazy("a person's name"),
    "phone": gettext_lazy("a phone number"),
    "email": gettext_lazy("an email address"),
    "address": gettext_lazy("a street address"),
    "zip": gettext_lazy("a ZIP code"),
    "date": gettext_lazy("a date such as a birth or visit date"),
    "age": gettext_lazy("an age over 89"),
    "ssn": gettext_lazy("a Social Security number"),
    "mrn": gettext_lazy("a medical record number"),
    "member_id": gettext_lazy("a member ID"),
    "account_number": gettext_lazy("an account number"),
    "license": gettext_lazy("a licence number"),
    "vehicle": gettext_lazy("a vehicle identifier"),
    "device": gettext_lazy("a device identifier"),
    "url": gettext_lazy("a web link"),
    "ip_address": gettext_lazy("an IP address"),
    "handle": gettext_lazy("a social media handle"),
}


# --------------------------------------------------------------------------- access rules


def _is_moderator(user) -> bool:
    return access.holds(user, MODERATE)


@access.rule(Review, "view")
def _published_or_party_may_view(user, review: Review) -> bool:
    return (
        review.status == Review.Status.PUBLISHED
        or review.author_id == user.pk
        or (review.clinician.user_id is not None and review.clinician.user_id == user.pk)
        or _is_moderator(user)
    )


@access.rule(Review, "moderate", phi=True)
def _moderators_may_moderate(user, review: Review) -> bool:
    return _is_moderator(user)


@access.rule(Review, "respond")
def _px_staff_may_respond(user, review: Review) -> bool:
    return access.holds(user, RESPOND)


@access.rule(Review, "appeal")
def _reviewed_clinician_may_appeal(user, review: Review) -> bool:
    # Only comments the public can see (or that are under this appeal): a held
    # or rejected comment may hold PHI the clinician must never read.
    return (
        review.status in (Review.Status.PUBLISHED, Review.Status.APPEALED)
        and review.clinician.user_id is not None
        and review.clinician.user_id == user.pk
    )


@access.rule(Review, "report")
def _anyone_signed_in_may_report_published(user, review: Review) -> bool:
    return review.status == Review.Status.PUBLISHED


@access.rule(ClinicianPage, "review")
def _cared_for_patient_may_review(user, clinician: ClinicianPage) -> bool:
    # The host decides who was cared for (the adapter); only a live page takes reviews.
    return bool(clinician.live and get_adapter().can_review(user, clinician))


@access.rule(ClinicianPage, "edit_profile")
def _linked_clinician_may_edit_profile(user, page: ClinicianPage) -> bool:
    # Only the account linked to the page, and only while it holds the clinician role.
    return page.user_id is not None and page.user_id == user.pk and access.holds(user, EDIT_OWN_PROFILE)


@access.scope(Review)
def _reviews_visible_to(user) -> Q:
    if _is_moderator(user):
        return Q()
    return Q(status=Review.Status.PUBLISHED) | Q(author=user) | Q(clinician__user=user)


# --------------------------------------------------------------------------- hold reasons


def _join_phrases(phrases: Sequence[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + _(" or ") + phrases[-1]


def phi_reason(kinds: Iterable[str]) -> dict:
    """The hold reason for the PHI kinds found, as codes: never the text nor a sentence."""
    found = set(kinds)
    ordered = [kind for kind in phi.KINDS if kind in found]
    return {"code": "phi", "kinds": ordered + sorted(found - set(ordered))}


def language_reason() -> dict:
    return {"code": "language"}


def new_account_reason() -> dict:
    return {"code": "new_account"}


def hold_reason_codes(reason: dict) -> dict:
    """``reason`` as stored: its code and PHI kinds only (any earlier stored sentence dropped)."""
    stored = {"code": str(reason.get("code") or "")}
    if "kinds" in reason:
        stored["kinds"] = [str(kind) for kind in reason.get("kinds") or ()]
    return stored


def describe_hold_reason(reason: dict) -> str:
    """Why a comment is held, as one sentence in the active language (the reader's, not the writer's).

    The one place hold reasons become words: stored reasons are codes
    (``{"code": "phi", "kinds": ["phone"]}``), described when shown.
    """
    code = reason.get("code") if isinstance(reason, dict) else None
    if code == "phi":
        kinds = [str(kind) for kind in reason.get("kinds") or ()]
        phrases = [str(_KIND_PHRASES.get(kind) or _("personal details")) for kind in kinds[:3]]
        if not phrases:
            return _("It may contain personal details.")
        return _("It may contain personal details such as %(what)s.") % {"what": _join_phrases(phrases)}
    if code == "language":
        return _("It may contain language that our review policy does not allow.")
    if code == "new_account":
        return _("Comments from new accounts are read by a moderator before they appear.")
    return _("A moderator reads it before it appears.")


def describe_hold_reasons(reasons: Iterable[dict]) -> list[str]:
    """:func:`describe_hold_reason` for each stored reason, in order."""
    return [describe_hold_reason(reason) for reason in reasons or ()]


def report_queue_reason(report, reporter):
    """The queue's reason for a reader's report: a flag by ``reporter``, naming the report and its category.

    The reporter's own words stay in the (encrypted) report; the queue keeps the chosen category only.
    """
    from portal_social.core import moderation
    from portal_social.profiles.forms import REPORT_REASONS

    code = str(report.reason or "").partition(": ")[0]
    category = code if code in {key for key, _label in REPORT_REASONS} else "other"
    return moderation.Reason("flag", added_by=reporter, details={"category": category, "report": str(report.pk)})


def describe_report_reason(reason: str) -> str:
    """A reader's report as a moderator reads it: the chosen reason's label, then the reporter's words.

    Reports are stored as ``"<code>: <details>"`` (or the code alone); the
    code is shown as its label in the active language, never as the code.
    """
    from portal_social.profiles.forms import REPORT_REASONS

    labels = {code: str(label) for code, label in REPORT_REASONS}
    code, separator, details = str(reason or "").partition(": ")
    if code in labels:
        return f"{labels[code]}: {details}" if separator and details else labels[code]
    return str(reason or "")


def finding_label(kind: str) -> str:
    """What a highlighted part of a comment looks like, in words ("Looks like a phone number"), never the code."""
    if kind == "language":
        return _("Language our review policy does not allow")
    if kind == "redacted":
        return _("Already hidden")
    phrase = _KIND_PHRASES.get(kind)
    if phrase is None:
        return _("Looks like personal details")
    return _("Looks like %(what)s") % {"what": phrase}


def public_comment_text(review: Review) -> str:
    """The comment as the public sees it, as plain text: the source with redactions applied.

    Redactions are checked against the comment when a moderator makes them;
    a stored span that no longer fits the comment is skipped, as it always was.
    """
    source = review.comment_source
    spans = [s for s in review.redactions if 0 <= int(s["start"]) < int(s["end"]) <= len(source)]
    return screening.apply_redactions(source, spans, replace=lambda span: phi.marker(span.label))


# --------------------------------------------------------------------------- display helpers


def stars_visual(value) -> str:
    """Five star characters for a 1–5 value, rounded to whole stars (decorative; pair with text)."""
    if value is None:
        return ""
    whole = int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    whole = max(0, min(5, whole))
    return "★" * whole + "☆" * (5 - whole)


def question_labels() -> dict[str, str]:
    return dict(app_settings.REVIEW_QUESTIONS)


def rating_rows(review: Review, labels: dict[str, str] | None = None) -> list[dict]:
    """``[{key, label, stars, visual}]`` in the configured question order (uses prefetched ratings)."""
    labels = labels if labels is not None else question_labels()
    order = {key: index for index, key in enumerate(labels)}
    ratings = sorted(review.ratings.all(), key=lambda r: order.get(r.question, len(order)))
    return [
        {
            "key": r.question,
            "label": labels.get(r.question, r.question),
            "stars": r.stars,
            "visual": stars_visual(r.stars),
        }
        for r in ratings
    ]


def exclusion_policy_url() -> str:
    """Where the review exclusion policy is published ("" until the host mounts the URLs)."""
    try:
        return reverse("portal_social_profiles:review_policy")
    except NoReverseMatch:
        return ""


def twelve_months_before(moment: datetime.datetime) -> datetime.datetime:
    """The same instant one calendar year earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:
        return moment.replace(year=moment.year - 1, day=28)


def twelve_months_after(moment: datetime.datetime) -> datetime.datetime:
    """The same instant one calendar year later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def recent_review(author, clinician, now: datetime.datetime) -> Review | None:
    """The author's review of this clinician from the last 12 months, if any."""
    return (
        Review.objects.filter(author=author, clinician=clinician, created_at__gt=twelve_months_before(now))
        .order_by("-created_at")
        .first()
    )


def too_soon_message(recent: Review) -> str:
    """Why a second review within 12 months is refused, and when the author may review again."""
    again = twelve_months_after(recent.created_at)
    return _(
        "You already reviewed this clinician in %(when)s. You can review them again from %(again)s; "
        "your new review will then replace the earlier one."
    ) % {
        "when": date_format(timezone.localtime(recent.created_at), "F Y"),
        "again": date_format(timezone.localtime(again), "j F Y"),
    }


# --------------------------------------------------------------------------- profile page

_UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _respond_url_base() -> str:
    """The admin's response page for a review, with a placeholder id ("" when the admin is not mounted)."""
    try:
        return reverse("portal_social_review_respond", args=(_UUID_PLACEHOLDER,))
    except NoReverseMatch:
        return ""


def profile_context(request, page) -> dict:
    """The review section of a clinician's profile, in a fixed number of queries.

    Keys: ``reviews`` (a ``Page`` of published reviews, ratings and the PX
    response prefetched, each with ``rating_rows``, ``report_url`` and
    ``appeal_url`` attached, and the policy's answers ``can_report``,
    ``can_appeal`` and ``can_respond`` (with ``respond_url``)), ``show_aggregate``,
    ``aggregate`` (``average``, ``count``, ``visual``, ``questions`` as
    ``(label, average)`` pairs), ``can_review`` (the policy's "review"),
    ``offer_review`` (that, unless this person reviewed the clinician in the
    last 12 months; then ``recent_review_message`` says when they may again),
    ``can_appeal`` (any review on this page), ``can_edit_profile`` and
    ``edit_profile_url``, ``review_url``, ``min_count`` and
    ``exclusion_policy_url``.

    Every "may this person…" here is ``access.can``: the page offers exactly
    what the actions would allow.
    """
    min_count = app_settings.REVIEWS_MIN_COUNT
    summary = page.rating_summary
    count = summary.count or 0
    show_aggregate = count >= min_count
    labels = question_labels()

    aggregate = {"average": None, "count": count, "visual": "", "questions": []}
    if show_aggregate:
        counted = Review.objects.counted().filter(clinician=page)
        averages = dict(
            ReviewRating.objects.filter(review__in=counted)
            .values("question")
            .annotate(average=Avg("stars"))
            .values_list("question", "average")
        )
        aggregate["average"] = summary.average
        aggregate["visual"] = stars_visual(summary.average)
        aggregate["questions"] = [
            (label, Decimal(str(averages[key])).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
            for key, label in labels.items()
            if averages.get(key) is not None
        ]

    published = (
        Review.objects.published()
        .filter(clinician=page)
        .select_related("response")
        .prefetch_related("ratings")
        .order_by("-created_at", "pk")
    )
    reviews = Paginator(published, REVIEWS_PER_PAGE).get_page(request.GET.get(PAGE_PARAM) if request else None)
    reviews.object_list = list(reviews.object_list)

    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    # Every control offered below is the policy's answer (core.access), asked here once per decision.
    can_review = access.can(user, "review", page)
    recent = recent_review(user, page, timezone.now()) if can_review else None
    base_url = page.url or ""
    respond_base = _respond_url_base()
    for review in reviews.object_list:
        review.clinician = page  # the rules read review.clinician: no query per review
        review.rating_rows = rating_rows(review, labels)
        review.report_url = base_url + page.reverse_subpage("report_review", args=(review.pk,))
        review.appeal_url = base_url + page.reverse_subpage("appeal_review", args=(review.pk,))
        review.can_report = access.can(user, "report", review)
        review.can_appeal = bool(review.comment_html) and access.can(user, "appeal", review)
        response = getattr(review, "response", None)
        review.can_respond = response is None and bool(respond_base) and access.can(user, "respond", review)
        review.respond_url = respond_base.replace(_UUID_PLACEHOLDER, str(review.pk)) if review.can_respond else ""
        # Sanitised once at write time by core.text.render (house rule 5), like
        # comment_html; marked safe here so templates need no second |safe.
        review.response_html = mark_safe(response.body_html) if response is not None else ""  # noqa: S308

    can_edit_profile = access.can(user, "edit_profile", page)
    return {
        "reviews": reviews,
        "show_aggregate": show_aggregate,
        "aggregate": aggregate,
        "can_review": can_review,
        # One review per clinician in 12 months: someone who reviewed recently is told when, not offered the form.
        "offer_review": can_review and recent is None,
        "recent_review_message": too_soon_message(recent) if recent is not None else "",
        "can_appeal": any(review.can_appeal for review in reviews.object_list),
        "can_edit_profile": can_edit_profile,
        "edit_profile_url": base_url + page.reverse_subpage("edit_profile") if can_edit_profile and base_url else "",
        "signed_in": signed_in,
        "review_url": base_url + page.reverse_subpage("review") if base_url else "",
        "min_count": min_count,
        "exclusion_policy_url": exclusion_policy_url(),
        "reviews_page_param": PAGE_PARAM,
    }
