"""Patient-facing feedback pages, mounted at ``/feedback/``. Thin adaptors around ``feedback.actions``.

Anyone may send feedback (a signed-out visitor anonymously, rate-limited by
address); a signed-in patient or caregiver follows what they sent. A case
they did not send answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal_social.adapter import get_adapter
from portal_social.core import access, ratelimit
from portal_social.core.errors import Denied
from portal_social.feedback import actions, rules
from portal_social.feedback.forms import FeedbackForm, SurveyForm
from portal_social.feedback.models import Case, CaseEvent
from portal_social.profiles.models import Location

_T = "portal_social/feedback/"


def _signed_in(request) -> bool:
    return request.user.is_authenticated


@require_http_methods(["GET", "HEAD"])
def index(request):
    """What a person sent, newest first, and the way to send more."""
    cases = []
    if _signed_in(request) and access.holds(request.user, rules.SUBMIT):
        cases = list(
            access.visible(request.user, Case.objects.all())
            .only("id", "reference", "type", "status", "received_at")
            .order_by("-received_at")[:50]
        )
    return render(request, _T + "index.html", {"cases": cases})


def _patients(request) -> list[tuple[int, str]]:
    """Who a signed-in person may give feedback about: themselves, then those they care for (feedback scope)."""
    if not _signed_in(request):
        return []
    user = request.user
    adapter = get_adapter(request)
    people = [(user.pk, adapter.display_name(user) + " (" + str(_("me")) + ")")]
    ids = rules.proxied_patient_ids(user)
    if ids:
        from django.contrib.auth import get_user_model

        people += [(p.pk, adapter.display_name(p)) for p in get_user_model().objects.filter(pk__in=ids).order_by("pk")]
    return people


@require_http_methods(["GET", "POST"])
def new(request):
    """The feedback form: for anyone; signed out, it can only be anonymous."""
    signed_in = _signed_in(request)
    if signed_in and not access.holds(request.user, rules.SUBMIT):
        raise Http404()
    patients = _patients(request)
    sites = list(Location.objects.values_list("pk", "name"))
    form = FeedbackForm(request.POST or None, patients=patients, sites=sites, signed_in=signed_in)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = None
        if "patient" in form.fields and data.get("patient"):
            patient = _person(data["patient"], patients)
        site = Location.objects.filter(pk=data["site"]).first() if data.get("site") else None
        try:
            case = actions.submit_feedback(
                user=request.user,
                type=data["type"],
                summary=data.get("summary", ""),
                description=data["description"],
                patient=patient,
                anonymous=data.get("anonymous", False),
                contact_requested=data.get("contact_requested", False),
                contact_method=data.get("contact_method", ""),
                contact_details=data.get("contact_details", ""),
                site=site,
                on_site_now=data.get("on_site_now", False),
                past_experience=data.get("past_experience", False),
                submission=data.get("submission"),
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        except ratelimit.RateLimited as refused:
            form.add_error(None, refused.message)
        except Denied as refused:
            form.add_error(None, refused.message)
        else:
            if case.shared_with_submitter:
                return HttpResponseRedirect(reverse("portal_social_feedback:case", args=[case.pk]) + "?sent=1")
            return render(request, _T + "thanks.html", {"reference": case.reference, "case": case}, status=201)
    return render(request, _T + "new.html", {"form": form, "signed_in": signed_in}, status=400 if form.errors else 200)


def _person(value, patients) -> object:
    from django.contrib.auth import get_user_model

    allowed = {str(pk) for pk, _label in patients}
    if str(value) not in allowed:
        raise Http404()
    return get_user_model().objects.get(pk=value)


def _own_case(request, case_id) -> Case:
    if not _signed_in(request):
        raise Http404()
    case = Case.objects.select_related("site").filter(pk=case_id).first()
    if case is None or not rules.is_submitter(request.user, case):
        raise Http404()
    return access.require(request.user, "view", case, request=request)


@require_http_methods(["GET", "POST"])
def case(request, case_id):
    """One case the person sent: its reference, where it stands, and (once resolved) the one-question survey."""
    found = _own_case(request, case_id)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.answer_survey(user=request.user, case=found, score=form.cleaned_data["score"], request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return HttpResponseRedirect(request.path + "?answered=1")
    timeline = list(found.events.filter(kind__in=[CaseEvent.Kind.RECEIVED, CaseEvent.Kind.STATUS]).order_by("at", "pk"))
    return render(
        request,
        _T + "case.html",
        {
            "case": found,
            "timeline": timeline,
            "form": form,
            "sent": request.GET.get("sent") == "1",
            "answered": request.GET.get("answered") == "1",
        },
        status=400 if form.errors else 200,
    )
