"""The audit-log viewer in the Wagtail admin, for risk managers and administrators."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core import access, audit
from portal_social.core.models import AuditEvent

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("Staff or user (username)"), required=False, max_length=150)
    patient = forms.CharField(label=_("Patient (username)"), required=False, max_length=150)
    target_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    target_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("Any"))] + list(AuditEvent.Severity.choices)
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


def _user_id(username: str) -> int:
    found = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    return found if found is not None else -1


def filtered_events(user, data) -> tuple[AuditFilterForm, object]:
    form = AuditFilterForm(data or None)
    events = access.visible(user, AuditEvent.objects.all()).order_by("-sequence")
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        if values["user"]:
            events = events.filter(actor_id=_user_id(values["user"]))
        if values["patient"]:
            events = events.filter(patient_id=_user_id(values["patient"]))
        if values["target_type"]:
            events = events.filter(target_type=values["target_type"].lower())
        if values["target_id"]:
            events = events.filter(target_id=values["target_id"])
        if values["action"]:
            events = events.filter(action=values["action"])
        if values["severity"]:
            events = events.filter(severity=values["severity"])
        tz = timezone.get_current_timezone()
        if values["since"]:
            events = events.filter(occurred_at__gte=datetime.datetime.combine(values["since"], datetime.time.min, tz))
        if values["until"]:
            end = datetime.datetime.combine(values["until"], datetime.time.min, tz) + datetime.timedelta(days=1)
            events = events.filter(occurred_at__lt=end)
    elif form.is_bound:
        events = events.none()
    return form, events


def audit_log(request):
    if not access.holds(request.user, "portal_social.view_audit_log"):
        raise Http404()
    form, events = filtered_events(request.user, request.GET)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("p"))
    used = sorted(name for name, value in request.GET.items() if value and name in AuditFilterForm.base_fields)
    # Looking at the audit trail is itself recorded: which filters, never values.
    audit.record("audit.view", request=request, details={"filters": used, "page": page.number})
    query = request.GET.copy()
    query.pop("p", None)
    return render(
        request,
        "portal_social/core/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "header_title": _("Audit log")},
    )
