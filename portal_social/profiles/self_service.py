"""A clinician edits their own profile as a draft that an approver publishes.

The form changes the page's latest revision and submits it to the Wagtail
workflow assigned to the directory ("Clinician profile approval" in the
example site). Nothing reaches the public page until an approver approves it
in the Wagtail admin. Only the clinician linked to the page (``page.user``)
may use it; anyone else gets 404.
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from portal_social.core import audit, roles, user_text
from portal_social.profiles.models import ClinicianPage, Condition, Language

BIO_MAX = 5000
#: The form's free-text fields, each a registered ``ClinicianPage`` field of the same name.
SCREENED_FIELDS = ("pronouns", "bio")


class TaxonomyChoiceField(forms.ModelMultipleChoiceField):
    """Checkboxes of taxonomy terms, whose values are refused before they reach a query unless
    each is a plain number a primary key can hold: SQLite cannot bind an integer past 2**63, and
    a tampered form must get a form error, not a server error."""

    #: A 64-bit signed integer has at most 19 digits; 18 always fit.
    MAX_DIGITS = 18

    def clean(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk)
            if not (0 < len(text) <= self.MAX_DIGITS and text.isascii() and text.isdecimal()):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": text[:40]}
                )
        return super().clean(value)


class ProfileEditForm(forms.Form):
    pronouns = forms.CharField(label=_("Pronouns"), required=False, max_length=40)
    bio = forms.CharField(
        label=_("About me"),
        required=False,
        max_length=BIO_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Plain text; blank lines separate paragraphs. Up to 5,000 characters."),
    )
    languages = TaxonomyChoiceField(
        label=_("Languages I speak with patients"),
        queryset=Language.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    conditions = TaxonomyChoiceField(
        label=_("Conditions I treat"),
        queryset=Condition.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    accepting_new_patients = forms.BooleanField(label=_("Accepting new patients"), required=False)
    telehealth = forms.BooleanField(label=_("Offers telehealth visits"), required=False)

    def clean(self) -> dict:
        """A public page: every field a clinician writes here is screened through
        ``core.user_text`` (destination ``public_profile``); a field with PHI gets
        an error naming only the kind, and keeps its text for the clinician to fix."""
        cleaned = super().clean()
        user_text.screen_form(self, ClinicianPage, SCREENED_FIELDS)
        return cleaned


def _bio_to_rich_text(text: str) -> str:
    """Plain paragraphs to the page's rich-text HTML, escaped."""
    from django.utils.html import escape

    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + escape(p).replace("\n", "<br/>") + "</p>" for p in paragraphs)


def _rich_text_to_bio(html: str) -> str:
    from django.utils.html import strip_tags

    text = html.replace("</p>", "\n\n").replace("<br/>", "\n").replace("<br>", "\n")
    return strip_tags(text).strip()


def may_edit(user, page: ClinicianPage) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and page.user_id is not None
        and page.user_id == user.pk
        and roles.has_role(user, roles.CLINICIAN)
    )


def submit_profile_changes(*, clinician_user, page: ClinicianPage, data: dict, request=None):
    """Save ``data`` as a new draft revision of ``page`` and submit it for approval.

    Preconditions: ``may_edit(clinician_user, page)`` (raises Http404 otherwise,
    like a page that does not exist); ``pronouns`` and ``bio`` pass the
    ``public_profile`` screen (``ValidationError`` by field otherwise). Returns
    the revision. A submission that was still waiting is replaced by this one.
    """
    if not may_edit(clinician_user, page):
        raise Http404()
    user_text.validate(ClinicianPage, {name: data[name] for name in SCREENED_FIELDS})
    with transaction.atomic():
        draft = page.get_latest_revision_as_object()
        draft.pronouns = data["pronouns"]
        draft.bio = _bio_to_rich_text(data["bio"])
        draft.accepting_new_patients = data["accepting_new_patients"]
        draft.telehealth = data["telehealth"]
        draft.languages = list(data["languages"])
        draft.conditions = list(data["conditions"])
        revision = draft.save_revision(user=clinician_user, log_action=True)
        state = page.current_workflow_state
        if state is not None:
            state.cancel(user=clinician_user)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, clinician_user)
        audit.record(
            "profile.submit_changes",
            actor=clinician_user,
            target=page,
            request=request,
            details={"revision": revision.pk, "workflow": workflow is not None},
        )
    return revision


def edit_profile(request, page: ClinicianPage):
    if not may_edit(request.user, page):
        raise Http404()
    draft = page.get_latest_revision_as_object()
    initial = {
        "pronouns": draft.pronouns,
        "bio": _rich_text_to_bio(draft.bio),
        "languages": list(draft.languages.all()),
        "conditions": list(draft.conditions.all()),
        "accepting_new_patients": draft.accepting_new_patients,
        "telehealth": draft.telehealth,
    }
    if request.method == "POST":
        form = ProfileEditForm(request.POST, initial=initial)
        if form.is_valid():
            submit_profile_changes(clinician_user=request.user, page=page, data=form.cleaned_data, request=request)
            return redirect(page.url + page.reverse_subpage("edit_profile") + "?submitted=1")
    else:
        form = ProfileEditForm(initial=initial)
    page.refresh_from_db()
    return render(
        request,
        "portal_social/profiles/edit_profile.html",
        {
            "page": page,
            "form": form,
            "submitted": request.GET.get("submitted") == "1",
            "pending": page.workflow_in_progress,
        },
    )
