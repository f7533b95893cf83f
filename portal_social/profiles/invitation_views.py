"""The patient's side of review invitations: the link, and choosing to hear no more.

* ``invitation`` (``/clinician-reviews/invitation/<token>/``): the link an
  invitation carries. Signed out, it asks the patient to sign in first and
  shows nothing. Signed in, a link that was altered or made up, or that was
  sent to someone else, answers 404 with the same page; one already used or
  lapsed says so. Otherwise it is the review form for the visit's clinician
  (the first opening is counted), with "no more requests" buttons.
* ``requests`` (``/clinician-reviews/requests/``): the visits the patient
  may still review (the same links as their messages), and their opt-outs,
  each with a button to undo it.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal_social.core import notify
from portal_social.profiles import actions, views
from portal_social.profiles.actions import invitations as invitation_actions
from portal_social.profiles.invitation_models import InvitationOptOut

_T = "portal_social/profiles/"
KEY = "review.invitation"


def not_found(request):
    return render(request, _T + "invitation_unusable.html", {"code": "not_found"}, status=404)


def unusable(request, code: str):
    return render(request, _T + "invitation_unusable.html", {"code": code}, status=410)


def _public_id(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(notify.unsign(KEY, token)))
    except (signing.BadSignature, ValueError, TypeError):
        return None


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    public_id = _public_id(token)
    found = invitation_actions.invitation_for(request.user, public_id) if public_id else None
    if found is None:
        return not_found(request)
    try:
        invitation_actions.check_usable(found)
    except invitation_actions.InvitationUnusable as exc:
        return unusable(request, exc.code)
    if request.method == "POST" and request.POST.get("opt_out") in ("clinician", "all"):
        clinician = found.clinician if request.POST["opt_out"] == "clinician" else None
        actions.opt_out(request.user, clinician=clinician, request=request)
        if clinician is not None:
            messages.success(request, _("We will not ask you to review this clinician again."))
        else:
            messages.success(request, _("We will not send you any more review requests."))
        return HttpResponseRedirect(reverse("portal_social_profiles:invitation_requests"))
    invitation_actions.open_invitation(found)
    return views.write_review(request, found.clinician, invitation=found)


@login_required
@require_http_methods(["GET", "POST"])
def requests(request):
    """The patient's opt-outs from review requests, and a way to undo each."""
    if request.method == "POST":
        choice = request.POST.get("change", "")
        if choice == "all_on":
            actions.opt_in(request.user, clinician_id=None, request=request)
        elif choice == "all_off":
            actions.opt_out(request.user, request=request)
        else:
            try:
                clinician_id = int(choice)
            except ValueError:
                clinician_id = None
            if clinician_id is not None and 0 < clinician_id < 2**31:
                actions.opt_in(request.user, clinician_id=clinician_id, request=request)
        return HttpResponseRedirect(reverse("portal_social_profiles:invitation_requests"))
    opt_outs = list(
        InvitationOptOut.objects.filter(patient=request.user).select_related("clinician").order_by("created_at")
    )
    waiting = [
        (invitation.clinician, invitation_actions.link_path(invitation))
        for invitation in invitation_actions.open_for(request.user)
    ]
    return render(
        request,
        _T + "invitation_requests.html",
        {
            "waiting": waiting,
            "all_off": any(o.clinician_id is None for o in opt_outs),
            "clinicians": [o.clinician for o in opt_outs if o.clinician_id is not None],
        },
    )
