"""The audit-log viewer in the Wagtail admin, for risk managers and administrators.

A PHI screen (it names patients), itself audited: each page it shows writes
``audit.view``. Events are shown by their labels from
``core.audit_events`` and patients by name, never by bare ids.
"""

from __future__ import annotations

import datetime
import secrets
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core import access, audit_events
from portal_social.core.models import AuditEvent

PAGE_SIZE = 50


def _action_choices() -> list[tuple[str, str]]:
    events = sorted(audit_events.EVENT_TYPES.items(), key=lambda item: str(item[1]))
    return [("", _("Any")), *((name, label) for name, label in events)]


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("Staff or user (username)"), required=False, max_length=150)
    patient = forms.CharField(label=_("Patient (username)"), required=False, max_length=150)
    target_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    target_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    action = forms.ChoiceField(label=_("Event"), required=False, choices=_action_choices)
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


#: Session key holding the filters a viewer submitted, by opaque token.
FILTERS_SESSION_KEY = "_portal_social_audit_filters"
#: How many submitted filter sets a session keeps (the newest).
_KEEP_FILTER_SETS = 5


def _remember_filters(request, data: dict[str, str]) -> str:
    """Keep submitted filters in the session; the URL carries only a random token.

    Filters name patients and staff (usernames): in a query string they would
    reach browser history, proxy and server logs, and Referer headers.
    """
    token = secrets.token_urlsafe(12)
    stored = dict(request.session.get(FILTERS_SESSION_KEY) or {})
    stored[token] = data
    request.session[FILTERS_SESSION_KEY] = dict(list(stored.items())[-_KEEP_FILTER_SETS:])
    return token


def _recalled_filters(request) -> tuple[str, dict[str, str] | None]:
    token = request.GET.get("f", "")
    if not token:
        return "", None
    return token, (request.session.get(FILTERS_SESSION_KEY) or {}).get(token)


def _person_label(user) -> str:
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


def _patient_labels(events: list[AuditEvent]) -> dict[int, str]:
    """Each patient on the page named as "Full Name (username)", in one query."""
    ids = {event.patient_id for event in events if event.patient_id is not None}
    if not ids:
        return {}
    return {user.pk: _person_label(user) for user in get_user_model()._default_manager.filter(pk__in=ids)}


def audit_log(request):
    """The audit log: filters are POSTed, then shown at ``?f=<token>&p=<page>``."""
    if not access.holds(request.user, "portal_social.view_audit_log"):
        raise Http404()
    token = ""
    if request.method == "POST":
        submitted = {name: request.POST.get(name, "")[:200] for name in AuditFilterForm.base_fields}
        form, events = filtered_events(request.user, submitted)
        if form.is_valid():
            kept = {name: value for name, value in submitted.items() if value}
            token = _remember_filters(request, kept)
            return HttpResponseRedirect(f"{request.path}?{urlencode({'f': token})}")
        data = submitted
    else:
        token, data = _recalled_filters(request)
        form, events = filtered_events(request.user, data)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("p"))
    # Read the rows now, with the count: the audit.view event written below
    # must not join the listed events after they were counted.
    page.object_list = list(page.object_list)
    patients = _patient_labels(page.object_list)
    for event in page.object_list:
        event.label = audit_events.label(event.action)
        if event.patient_id is not None:
            event.patient_label = patients.get(event.patient_id) or _("Removed account")
    used = sorted(name for name, value in (data or {}).items() if value and name in AuditFilterForm.base_fields)
    # Looking at the audit trail is itself recorded: which filters, never values.
    audit_events.audit_log_viewed(request=request, filters=used, page=page.number)
    return render(
        request,
        "portal_social/core/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": urlencode({"f": token}) if token and data is not None else "",
            "header_title": _("Audit log"),
        },
    )
