"""A clinician edits their own profile as a draft that an approver publishes.

The form changes the page's latest revision and submits it to the Wagtail
workflow assigned to the directory ("Clinician profile approval" in the
example site). Nothing reaches the public page until an approver approves it
in the Wagtail admin. Who may use it is the access policy's
``"edit_profile"`` rule (the clinician linked to the page, ``page.user``);
anyone else gets 404. The write itself is
:func:`portal_social.profiles.actions.submit_profile_changes`; this module is
the form and the thin view around it.
"""

from __future__ import annotations

import html
import re

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from portal_social.core import access, user_text
from portal_social.core.forms import ActionErrorsMixin
from portal_social.profiles import actions, invitation_metrics
from portal_social.profiles.actions import submit_profile_changes
from portal_social.profiles.models import ClinicianPage, Condition, Language

__all__ = ["ProfileEditForm", "edit_profile", "submit_profile_changes"]

BIO_MAX = actions.BIO_MAX_LENGTH
#: The form's free-text fields, each a registered ``ClinicianPage`` field of the same name.
SCREENED_FIELDS = actions.PROFILE_TEXT_FIELDS


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


class ProfileEditForm(ActionErrorsMixin, forms.Form):
    pronouns = forms.CharField(label=_("Pronouns"), required=False, max_length=actions.PRONOUNS_MAX_LENGTH)
    bio = forms.CharField(
        label=_("About me"),
        required=False,
        max_length=BIO_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Plain text or Markdown; blank lines separate paragraphs. Up to 5,000 characters."),
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


_LINE_BREAK = re.compile(r"<br ?/?>\n?")
_BLANK_LINES = re.compile(r"\n{3,}")


def _rich_text_to_bio(markup: str) -> str:
    """The page's biography HTML back to the plain text the form edits."""
    text = _LINE_BREAK.sub("\n", markup.replace("</p>", "\n\n"))
    return _BLANK_LINES.sub("\n\n", html.unescape(strip_tags(text))).strip()


def edit_profile(request, page: ClinicianPage):
    """The self-service form: GET shows the latest draft, POST sends it for approval. Anyone else: 404."""
    if not access.can(request.user, "edit_profile", page):
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
            try:
                submit_profile_changes(clinician_user=request.user, page=page, data=form.cleaned_data, request=request)
            except actions.ProfileChangesDenied:
                raise Http404() from None
            except ValidationError as exc:
                form.add_action_errors(exc)
            else:
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
            "invitation_summary": invitation_metrics.build(*invitation_metrics.last_months(12), clinician=page),
        },
    )
