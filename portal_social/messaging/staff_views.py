"""Secure messaging pages for the care team's own set-up and for staff outside a pool: absences with a
delegate, and emergency access (break-the-glass) to a conversation."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.core import access, breakglass_views
from portal_social.messaging import actions, rules
from portal_social.messaging.forms import AwayForm
from portal_social.messaging.models import Conversation, OutOfOffice
from portal_social.messaging.view_common import _TEMPLATES, _display, _refused, _url, _uuid_or_none


@login_required
def away(request):
    """A care-team member's absences: set one with a delegate, or end one early."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    user = request.user
    pools = rules.pool_ids(user)
    if not pools:
        return _refused(request, _("Absences are for members of a care team."))
    colleagues = [
        (person.pk, _display(person))
        for person in get_user_model()
        .objects.filter(care_pool_memberships__pool__in=pools, is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "last_name", "pk")
        if rules.is_staff_member(person)
    ]
    status = 200
    form = AwayForm(colleagues=colleagues)
    if request.method == "POST" and request.POST.get("end"):
        period = OutOfOffice.objects.filter(pk=_uuid_or_none(request.POST["end"]), user=user).first()
        if period is None:
            raise Http404()
        actions.end_out_of_office(actor=user, period=period, request=request)
        return HttpResponseRedirect(_url("away") + "?ended=1")
    if request.method == "POST":
        form = AwayForm(request.POST, colleagues=colleagues)
        if form.is_valid():
            data = form.cleaned_data
            delegate = get_user_model().objects.filter(pk=int(data["delegate"])).first()
            zone = timezone.get_current_timezone()
            starts_at = datetime.datetime.combine(data["away_from"], datetime.time.min, tzinfo=zone)
            starts_at = max(starts_at, timezone.now()) if data["away_from"] <= timezone.localdate() else starts_at
            ends_at = datetime.datetime.combine(data["back_on"], datetime.time.min, tzinfo=zone)
            try:
                actions.set_out_of_office(
                    actor=user, delegate=delegate, starts_at=starts_at, ends_at=ends_at, request=request
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    form.add_error({"ends_at": "back_on"}.get(key, key if key in form.fields else None), messages)
            else:
                return HttpResponseRedirect(_url("away") + "?saved=1")
        status = 400
    periods = list(
        OutOfOffice.objects.filter(user=user, ends_at__gt=timezone.now())
        .select_related("delegate")
        .order_by("starts_at")
    )
    context = {
        "form": form,
        "periods": [{"period": p, "delegate": _display(p.delegate)} for p in periods],
        "saved": "saved" in request.GET,
        "ended": "ended" in request.GET,
    }
    return render(request, _TEMPLATES + "away.html", context, status=status)


@login_required
def emergency_access(request, conversation_id):
    """Break the glass on a conversation (staff outside its pool): a written reason opens it for reading,
    for a limited time, recorded at high severity. Alike for a conversation that does not exist until a
    valid reason is sent."""
    convo = Conversation.objects.filter(pk=conversation_id).first()
    if convo is not None and request.method != "POST" and access.can(request.user, "view", convo):
        return HttpResponseRedirect(_url("conversation", convo.pk))  # already theirs, or already open
    return breakglass_views.emergency_access(
        request,
        convo,
        kind=_("conversation"),
        open_url=_url("conversation", conversation_id),
        back_url=_url("inbox"),
        patient=convo.patient_id if convo is not None else None,
    )
