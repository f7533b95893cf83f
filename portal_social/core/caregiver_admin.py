"""The "Caregiver links" screen of the Wagtail admin: staff record a caregiver's access once it is checked.

Who may act for a patient is decided outside the portal (a proxy form, an
identity check, a court order); this screen is where staff who hold
``manage_caregivers`` through a role record that decision and end links.
Everyone else gets 404, and the package's middleware asks staff for their
second factor before any admin page.

Nothing that names a person travels in a URL: finding someone is a POST
(by username or email address), and the person found is kept in the
session, so the page shows their links again after a change. No list of
every link is offered: staff see one person's links at a time, and each
showing is audited (``caregiver.links_viewed``). Each link made or ended is
audited by ``core.caregivers`` with the acting staff member.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.menu import MenuItem

from portal_social.core import access, audit_events, caregivers
from portal_social.core.accounts import by_username
from portal_social.core.models import CaregiverRelation
from portal_social.core.rules import MANAGE_CAREGIVERS

TEMPLATE = "portal_social/core/admin/caregiver_links.html"
#: The session key of the person whose links the screen shows.
PERSON_KEY = "portal_social_caregiver_admin_person"
SCOPE_CHOICES = [
    ("messaging", gettext_lazy("Secure messages: read and send them for the patient")),
    ("feedback", gettext_lazy("Feedback: give it for the patient")),
    ("community", gettext_lazy("Communities: take part for the patient")),
]


def may_manage(user) -> bool:
    return access.holds(user, MANAGE_CAREGIVERS)


def find_account(value: str):
    """The active account whose username, or else email address, is ``value``; None for none."""
    value = (value or "").strip()
    if not value or len(value) > 254 or "\x00" in value:
        return None
    found = by_username(value)
    if found is None and "@" in value:
        found = get_user_model().objects.filter(email__iexact=value).order_by("pk").first()
    return found if found is not None and found.is_active else None


class FindForm(forms.Form):
    person = forms.CharField(
        label=gettext_lazy("Patient or caregiver"),
        max_length=254,
        help_text=gettext_lazy("Their portal username or email address."),
    )

    def clean_person(self):
        found = find_account(self.cleaned_data["person"])
        if found is None:
            raise ValidationError(_("No active portal account has that username or email address."), code="unknown")
        return found


class LinkForm(forms.Form):
    patient = forms.CharField(
        label=gettext_lazy("Patient"), max_length=254, help_text=gettext_lazy("Username or email address.")
    )
    caregiver = forms.CharField(
        label=gettext_lazy("Caregiver"), max_length=254, help_text=gettext_lazy("Username or email address.")
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("What the caregiver may do"),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one thing the caregiver may do.")},
    )
    relationship = forms.CharField(
        label=gettext_lazy("Relationship"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("For example: daughter, spouse, legal guardian. The patient sees it."),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("Starts on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    checked = forms.BooleanField(
        label=gettext_lazy(
            "I have checked who the caregiver is, and the patient (or someone with legal authority for them) agreed."
        ),
        error_messages={
            "required": gettext_lazy("Confirm that the caregiver's identity and the consent were checked.")
        },
    )

    def _account(self, field: str):
        found = find_account(self.cleaned_data.get(field, ""))
        if found is None:
            raise ValidationError(_("No active portal account has that username or email address."), code="unknown")
        return found

    def clean_patient(self):
        return self._account("patient")

    def clean_caregiver(self):
        return self._account("caregiver")

    def clean(self):
        cleaned = super().clean()
        patient, caregiver = cleaned.get("patient"), cleaned.get("caregiver")
        if patient is not None and caregiver is not None:
            existing = CaregiverRelation.objects.current_or_future().filter(patient=patient, caregiver=caregiver)
            if existing.exists():
                raise ValidationError(
                    _("This caregiver already has a current or upcoming link for this patient: end it first."),
                    code="duplicate",
                )
        return cleaned


def _person_in_session(request):
    pk = request.session.get(PERSON_KEY)
    if pk is None:
        return None
    return get_user_model().objects.filter(pk=pk).first()


@require_http_methods(["GET", "HEAD", "POST"])
def caregiver_links(request):
    """Find a person and see their links; record a new link."""
    if not may_manage(request.user):
        raise Http404()
    find_form, link_form = FindForm(prefix="find"), LinkForm(prefix="link")
    status = 200
    if request.method == "POST" and request.POST.get("action") == "find":
        find_form = FindForm(request.POST, prefix="find")
        if find_form.is_valid():
            request.session[PERSON_KEY] = find_form.cleaned_data["person"].pk
            return redirect("portal_social_caregiver_links")
        status = 400
    elif request.method == "POST" and request.POST.get("action") == "link":
        link_form = LinkForm(request.POST, prefix="link")
        if link_form.is_valid():
            data = link_form.cleaned_data
            try:
                caregivers.link_caregiver(
                    actor=request.user,
                    caregiver=data["caregiver"],
                    patient=data["patient"],
                    scopes=data["scopes"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    relationship=data["relationship"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    link_form.add_error(field if field in link_form.fields else None, errors)
            else:
                request.session[PERSON_KEY] = data["patient"].pk
                messages.success(request, _("The caregiver link was recorded. The patient can see it, and end it."))
                return redirect("portal_social_caregiver_links")
        status = 400
    elif request.method == "POST":
        raise Http404()
    person = _person_in_session(request)
    if person is not None:  # who acts for whom, and the relationship, are about the person: each showing is recorded
        audit_events.caregiver_links_viewed(actor=request.user, person=person, request=request)
    context = {
        "find_form": find_form,
        "link_form": link_form,
        "person": person,
        "links": list(caregivers.links_of(person).order_by("-starts_on", "-created_at")[:100]) if person else [],
        "today": timezone.localdate(),
        "header_title": _("Caregiver links"),
    }
    return render(request, TEMPLATE, context, status=status)


@require_http_methods(["POST"])
def end_link(request, pk):
    if not may_manage(request.user):
        raise Http404()
    relation = CaregiverRelation.objects.filter(pk=pk).first()
    if relation is None:
        raise Http404()
    if caregivers.is_current_or_future(relation):
        caregivers.end_caregiver_link(actor=request.user, relation=relation)
        messages.success(request, _("The caregiver link was ended. The caregiver lost access at once."))
    else:
        messages.info(request, _("That caregiver link had already ended."))
    request.session[PERSON_KEY] = relation.patient_id
    return redirect("portal_social_caregiver_links")


class CaregiverLinksMenuItem(MenuItem):
    """The screen's link in the admin menu, shown only to those who may use it."""

    def is_shown(self, request):
        return may_manage(request.user)
