"""Who acts for whom: a patient sees their caregivers and ends a caregiver's access; a caregiver steps down.

Links are made by the host's own process (proving who a caregiver is and
what the patient agreed to is the health system's, see ``docs/roles.md``) or
by an administrator through ``core.caregivers.link_caregiver``. Ending one
needs no such proof, so the patient can do it here at any time, and so can
the caregiver for themselves. Either way the caregiver loses access at their
next request and their open pages are closed (``core.realtime``).

The page lists only the signed-in person's own links, as patient and as
caregiver; a link anyone else asks to end answers 404, exactly like one that
does not exist.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from portal_social.core import access, caregivers, roles
from portal_social.core.models import CaregiverRelation

#: Ended links listed under "Access that has ended", newest first.
ENDED_SHOWN = 20

SCOPE_LABELS = {
    "messaging": _("Read and send your secure messages"),
    "feedback": _("Give feedback for you"),
    "community": _("Take part in communities for you"),
}
CAREGIVER_SCOPE_LABELS = {
    "messaging": _("Read and send their secure messages"),
    "feedback": _("Give feedback for them"),
    "community": _("Take part in communities for them"),
}


def _name(user) -> str:
    from portal_social.adapter import get_adapter

    return (user.get_full_name() or "").strip() or get_adapter().display_name(user)


def _own_links(user):
    """The links ``user`` is a party to, through the one access policy (a manager's wider view is not here)."""
    return access.visible(user, caregivers.links_of(user)).order_by("starts_on", "created_at")


def _row(relation: CaregiverRelation, user, today: datetime.date) -> dict:
    as_patient = relation.patient_id == user.pk
    labels = SCOPE_LABELS if as_patient else CAREGIVER_SCOPE_LABELS
    return {
        "relation": relation,
        "name": _name(relation.caregiver if as_patient else relation.patient),
        "as_patient": as_patient,
        "scopes": [labels[scope] for scope in relation.scopes],
        "upcoming": relation.starts_on > today,
        "ended_on": relation.revoked_at.date() if relation.revoked_at else relation.ends_on,
    }


@login_required
@require_http_methods(["GET"])
def index(request):
    today = timezone.localdate()
    current, ended = [], []
    for relation in _own_links(request.user):
        row = _row(relation, request.user, today)
        (current if caregivers.is_current_or_future(relation, today) else ended).append(row)
    ended.sort(key=lambda row: row["ended_on"] or today, reverse=True)
    for_me = [row for row in current if row["as_patient"]]
    i_act_for = [row for row in current if not row["as_patient"]]
    context = {
        "for_me": for_me,
        "i_act_for": i_act_for,
        "ended": ended[:ENDED_SHOWN],
        # Someone who only acts for others is not asked about their own caregivers.
        "show_for_me": bool(for_me) or not i_act_for or roles.has_role(request.user, roles.PATIENT),
    }
    return render(request, "portal_social/core/caregivers.html", context)


def _link_for(request, pk) -> CaregiverRelation:
    relation = _own_links(request.user).filter(pk=pk).first()
    if relation is None or not access.can(request.user, "end", relation):
        raise Http404()
    return relation


@login_required
@require_http_methods(["GET", "POST"])
def end(request, pk):
    """Ask "are you sure", then end the link. Ending one already over changes nothing and says so."""
    relation = _link_for(request, pk)
    row = _row(relation, request.user, timezone.localdate())
    if not caregivers.is_current_or_future(relation):
        messages.info(request, _("That access has already ended."))
        return redirect("portal_social_caregivers")
    if request.method == "POST":
        caregivers.end_caregiver_link(actor=request.user, relation=relation)
        if row["as_patient"]:
            done = _("%(name)s can no longer act for you.")
        else:
            done = _("You no longer act for %(name)s.")
        messages.success(request, done % {"name": row["name"]})
        return redirect("portal_social_caregivers")
    return render(request, "portal_social/core/caregiver_end.html", {"row": row})
