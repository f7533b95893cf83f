"""Review pages on a clinician's profile: thin adaptors around ``actions``.

Reached through ``ClinicianPage``'s routes (``review/``,
``reviews/<uuid>/report/``, ``reviews/<uuid>/appeal/``), plus the public
review exclusion policy (``urls.py``).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.conf import app_settings
from portal_social.core import access
from portal_social.core.ratelimit import RateLimited
from portal_social.profiles import actions, reviews
from portal_social.profiles.forms import AppealForm, ReportForm, ReviewForm
from portal_social.profiles.models import Review, ReviewReport


def _review_url(page) -> str:
    return (page.url or "") + page.reverse_subpage("review")


def _context(page, **extra) -> dict:
    return {"page": page, "self": page, "exclusion_policy_url": reviews.exclusion_policy_url(), **extra}


def _refused(request, page, message: str):
    return render(
        request,
        "portal_social/profiles/review_form.html",
        _context(page, refusal=message, form=None),
        status=403,
    )


def write_review(request, page, *, invitation=None):
    """GET: the review form (or why this person cannot review). POST: submit, then the "submitted" page.

    With ``invitation`` (the invitation page, already checked to be the
    signed-in patient's and usable) the review completes it.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if "submitted" in request.GET and invitation is None:
        return _submitted(request, page, request.GET["submitted"])
    if not access.can(request.user, "review", page):
        return _refused(request, page, actions.ReviewNotAllowed.default_message)
    recent = reviews.recent_review(request.user, page, timezone.now())
    if recent is not None:
        return _refused(request, page, reviews.too_soon_message(recent))

    form = ReviewForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            review = actions.submit_review(
                author=request.user,
                clinician=page,
                ratings=form.ratings(),
                comment=form.cleaned_data["comment"],
                request=request,
                invitation=invitation,
            )
        except actions.ReviewNotAllowed as exc:
            return _refused(request, page, exc.message)
        except actions.InvitationUnusable as exc:
            from portal_social.profiles import invitation_views

            return invitation_views.unusable(request, exc.code)
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            return HttpResponseRedirect(_review_url(page) + "?" + urlencode({"submitted": str(review.pk)}))
    return render(
        request,
        "portal_social/profiles/review_form.html",
        _context(page, form=form, questions_hint=True, invitation=invitation),
        status=status,
    )


def _submitted(request, page, raw_id: str):
    try:
        review_id = uuid.UUID(raw_id)
    except ValueError:
        raise Http404() from None
    review = get_object_or_404(Review, pk=review_id, author=request.user, clinician=page)
    return render(
        request,
        "portal_social/profiles/review_submitted.html",
        _context(
            page,
            review=review,
            published=review.status == Review.Status.PUBLISHED,
            held=review.status == Review.Status.HELD,
            has_comment=bool(review.comment_source),
            reasons=reviews.describe_hold_reasons(review.hold_reasons),
        ),
    )


def report_review(request, page, review_id):
    """Report a published review of this clinician to the moderators."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    review = get_object_or_404(Review.objects.published(), pk=review_id, clinician=page)
    review.clinician = page
    if not access.can(request.user, "report", review):
        raise Http404()
    already = ReviewReport.objects.filter(review=review, reporter=request.user).exists()
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and not already and form.is_valid():
        try:
            actions.report_review(reporter=request.user, review=review, reason=form.reason_text(), request=request)
        except actions.ReportDenied:
            raise Http404() from None
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Thank you. A moderator will look at this review."))
            return HttpResponseRedirect(page.url or "/")
    return render(
        request,
        "portal_social/profiles/report_form.html",
        _context(page, review=review, form=form, already_reported=already),
        status=status,
    )


def appeal_review(request, page, review_id):
    """The reviewed clinician appeals a comment. Anyone else: 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    review = get_object_or_404(Review, pk=review_id, clinician=page)
    review.clinician = page
    if not access.can(request.user, "appeal", review):
        raise Http404()
    form = AppealForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.appeal_review(
                clinician_user=request.user, review=review, reason=form.cleaned_data["reason"], request=request
            )
        except actions.AppealDenied:
            raise Http404() from None
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(
                request, _("Your appeal was received. The comment is hidden while a moderator looks at it.")
            )
            return HttpResponseRedirect(page.url or "/")
    return render(
        request,
        "portal_social/profiles/appeal_form.html",
        _context(
            page,
            review=review,
            form=form,
            comment_text=reviews.public_comment_text(review),
            under_appeal=review.status == Review.Status.APPEALED,
        ),
    )


def exclusion_policy(request):
    """The published review exclusion policy: what is removed from reviews, and why."""
    return render(
        request,
        "portal_social/profiles/exclusion_policy.html",
        {
            "min_count": app_settings.REVIEWS_MIN_COUNT,
            "new_account_days": app_settings.REVIEW_NEW_ACCOUNT_DAYS,
        },
    )
