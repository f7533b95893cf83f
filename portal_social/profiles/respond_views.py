"""Responses to reviews in the Wagtail admin (patient experience staff).

* ``respond_list`` (``/cms/portal-social/reviews/respond/``): published
  reviews without a response, newest first.
* ``respond``: the form for the one public response to a review.

Anyone without ``portal_social.respond_to_reviews`` gets 404. Every query
is bounded: the list is paginated and its related rows are prefetched.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from portal_social.core import access, public_reply
from portal_social.profiles import actions, reviews
from portal_social.profiles.forms import ResponseForm
from portal_social.profiles.models import Review

RESPOND_PAGE_SIZE = 25


def _require(request, permission: str) -> None:
    if not access.holds(request.user, permission):
        raise Http404()


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
