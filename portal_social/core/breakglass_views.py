"""The emergency-access screens a feature mounts for its PHI records (``core.breakglass``).

Staff who may break the glass meet, where a record is not theirs, the same
"not found" page as for a record that does not exist, with one addition: a
link to ask for emergency access. The request screen asks for a written
reason and says what follows (a time limit, a record of every page opened,
risk management told). Only once a valid reason is given does the answer
differ for a record that does not exist (404), so guessing costs a recorded
reason each time, within the ``break_glass`` rate limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from portal_social.conf import app_settings
from portal_social.core import breakglass

if TYPE_CHECKING:
    from django.db.models import Model

TEMPLATE = "portal_social/core/emergency_access.html"
NOT_YOURS_TEMPLATE = "portal_social/core/not_found_emergency.html"


class EmergencyAccessForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this record now?"),
        help_text=_("At least %(count)s characters. Risk management reviews every emergency access.")
        % {"count": breakglass.MIN_REASON_LENGTH},
        widget=forms.Textarea,
        min_length=breakglass.MIN_REASON_LENGTH,  # of the reason without its surrounding blanks
        max_length=breakglass.MAX_REASON_LENGTH,
        error_messages={
            "required": _("Explain why you need emergency access."),
            "min_length": _("Explain why you need emergency access (at least %(limit_value)s characters)."),
        },
    )


def not_found(request, *, kind: str, request_url: str):
    """The 404 answer for a record this person may not open: the emergency-access link for those who may
    break the glass, the plain "not found" otherwise. The same whether the record exists or not."""
    if not breakglass.may_break_glass(request.user):
        raise Http404()
    context = {"kind": kind, "request_url": request_url, "minutes": app_settings.BREAK_GLASS_MINUTES}
    response = render(request, NOT_YOURS_TEMPLATE, context, status=404)
    response["Cache-Control"] = "private, no-store"
    return response


def emergency_access(request, obj: Model | None, *, kind: str, open_url: str, back_url: str, patient=None):
    """Ask for a reason, then open ``obj`` to ``request.user`` for ``BREAK_GLASS_MINUTES`` and go to ``open_url``.

    ``obj`` is None when no such record exists: the screen looks the same until a valid reason is sent,
    which then answers 404. Anyone who may not break the glass gets 404 at once.
    """
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if not breakglass.may_break_glass(request.user):
        raise Http404()
    form = EmergencyAccessForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if obj is None:
                raise Http404()
            try:
                breakglass.break_the_glass(
                    user=request.user, obj=obj, reason=form.cleaned_data["reason"], patient=patient, request=request
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages[0] if exc.messages else _("Emergency access was refused."))
            else:
                return HttpResponseRedirect(open_url)
    context = {
        "form": form,
        "kind": kind,
        "back_url": back_url,
        "minutes": app_settings.BREAK_GLASS_MINUTES,
    }
    response = render(request, TEMPLATE, context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response
