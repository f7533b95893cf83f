"""Forms for reviews: they collect input; the actions validate it again and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal_social.conf import app_settings
from portal_social.core.forms import ActionErrorsMixin

RATING_PREFIX = "rating_"


def star_choices() -> list[tuple[int, str]]:
    """``(1, "1 star")`` … ``(5, "5 stars")``: each radio's accessible name."""
    return [(n, ngettext("%(n)d star", "%(n)d stars", n) % {"n": n}) for n in range(1, 6)]


class ReviewForm(ActionErrorsMixin, forms.Form):
    """One radio group of 1–5 stars per configured question, and an optional comment."""

    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Tell others about your care. Do not include names, phone numbers, dates or other personal "
            "details: comments are public."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].widget.attrs["maxlength"] = str(app_settings.TEXT_MAX_LENGTH)
        ratings = {}
        for key, label in app_settings.REVIEW_QUESTIONS:
            ratings[RATING_PREFIX + key] = forms.TypedChoiceField(
                label=label,
                choices=star_choices(),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a star rating for “%(question)s”.") % {"question": label},
                    "invalid_choice": _("Choose from 1 to 5 stars for “%(question)s”.") % {"question": label},
                },
            )
        # Questions first, then the comment.
        self.fields = {**ratings, "comment": self.fields["comment"]}

    def rating_fields(self):
        return [self[name] for name in self.fields if name.startswith(RATING_PREFIX)]

    def ratings(self) -> dict[str, int]:
        return {
            name.removeprefix(RATING_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(RATING_PREFIX)
        }

    @property
    def action_error_fields(self) -> dict[str, str]:
        # The action keys a rating error by its question; the form's radio group is prefixed.
        return {key: RATING_PREFIX + key for key, _label in app_settings.REVIEW_QUESTIONS}


REPORT_REASONS = [
    ("phi", _("It shares someone's personal or health details")),
    ("abusive", _("It is abusive, profane or hateful")),
    ("not_about_care", _("It is not about the care this clinician gave")),
    ("not_a_patient", _("I do not think a patient wrote it")),
    ("other", _("Something else")),
]


class ReportForm(ActionErrorsMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this review?"),
        choices=REPORT_REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is wrong with this review.")},
    )
    details = forms.CharField(
        label=_("Anything else a moderator should know (optional)"),
        required=False,
        max_length=250,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_text(self) -> str:
        text = self.cleaned_data["reason"]
        details = self.cleaned_data.get("details", "").strip()
        return f"{text}: {details}" if details else text


class AppealForm(ActionErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why should this comment be removed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Say which part of the review policy it breaks. A moderator decides; the comment is hidden until then."
        ),
        error_messages={"required": _("Tell the moderators why this comment should be removed.")},
    )


class ResponseForm(ActionErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("Public response"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Shown under the review. Thank them, apologise, and invite them to contact the patient experience "
            "team privately. Never confirm that the writer is a patient: no names, no dates, nothing about a "
            "visit, their records, results or treatment."
        ),
        error_messages={"required": _("Write a response.")},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
