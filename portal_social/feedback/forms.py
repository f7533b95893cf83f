"""Feedback forms: they collect input; the actions validate it again and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal_social.core.forms import ActionErrorsMixin, OneUseTokenMixin
from portal_social.feedback.models import DESCRIPTION_MAX_LENGTH, SUMMARY_MAX_LENGTH, Case, RecoveryAction, Severity

_CHOOSE = {"required": _("Choose one."), "invalid_choice": _("Choose from the list.")}


def _choices(values, blank=None):
    return ([("", blank)] if blank else []) + list(values)


class FeedbackForm(ActionErrorsMixin, OneUseTokenMixin):
    """The portal form: what kind, what happened, and whether and how to get back to the person."""

    patient = forms.ChoiceField(label=_("Who is this feedback about?"), required=False, error_messages=_CHOOSE)
    type = forms.ChoiceField(
        label=_("What would you like to tell us?"),
        choices=[(t, Case.Type(t).label) for t in ("compliment", "complaint", "suggestion", "question")],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of feedback this is."), "invalid_choice": _("Choose one.")},
    )
    summary = forms.CharField(label=_("In a few words"), max_length=SUMMARY_MAX_LENGTH, required=False)
    description = forms.CharField(
        label=_("What happened?"),
        max_length=DESCRIPTION_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Include when and where, and anyone involved. Please do not include card or account numbers."),
        error_messages={"required": _("Tell us what happened.")},
    )
    site = forms.ChoiceField(label=_("Which location was it?"), required=False, error_messages=_CHOOSE)
    on_site_now = forms.BooleanField(
        label=_("I am at this location right now"),
        help_text=_("Someone on duty there will be told straight away."),
        required=False,
    )
    past_experience = forms.BooleanField(label=_("This happened more than a month ago"), required=False)
    contact_requested = forms.BooleanField(label=_("Please contact me about this"), required=False)
    contact_method = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=_choices(Case.ContactMethod.choices, _("Choose how")),
        required=False,
        error_messages=_CHOOSE,
    )
    contact_details = forms.CharField(label=_("Phone number, email or address"), max_length=500, required=False)
    anonymous = forms.BooleanField(
        label=_("Send this anonymously"),
        help_text=_("We will not know who sent it, and you will not be able to follow it here."),
        required=False,
    )

    def __init__(self, *args, patients=(), sites=(), signed_in=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = _choices([(str(pk), name) for pk, name in sites], _("Not about a location"))
        if len(patients) > 1:
            self.fields["patient"].choices = [(str(pk), label) for pk, label in patients]
            self.fields["patient"].required = True
        else:
            del self.fields["patient"]
        if not signed_in:
            del self.fields["anonymous"]
            self.fields["contact_method"].choices = [
                c for c in self.fields["contact_method"].choices if c[0] != Case.ContactMethod.PORTAL
            ]


class StaffCaseForm(ActionErrorsMixin, forms.Form):
    """Staff entry: a call, a letter, an email, someone at the desk, or a social-media post."""

    channel = forms.ChoiceField(
        label=_("How did it reach us?"),
        choices=_choices(
            [(c, Case.Channel(c).label) for c in ("phone", "letter", "email", "in_person", "social")], _("Choose")
        ),
        error_messages=_CHOOSE,
    )
    type = forms.ChoiceField(label=_("Type"), choices=_choices(Case.Type.choices, _("Choose")), error_messages=_CHOOSE)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    summary = forms.CharField(label=_("Summary"), max_length=SUMMARY_MAX_LENGTH, required=False)
    description = forms.CharField(
        label=_("What the person told us"),
        max_length=DESCRIPTION_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write what the person told us.")},
    )
    categories = forms.MultipleChoiceField(label=_("Categories"), required=False, widget=forms.CheckboxSelectMultiple)
    site = forms.ChoiceField(label=_("Site"), required=False)
    service_line = forms.ChoiceField(label=_("Service line"), required=False)
    contact_method = forms.ChoiceField(
        label=_("Contact by"), choices=_choices(Case.ContactMethod.choices, _("No contact wanted")), required=False
    )
    contact_details = forms.CharField(label=_("Contact details"), max_length=500, required=False)
    past_experience = forms.BooleanField(label=_("About an earlier visit (past experience)"), required=False)
    medical_risk = forms.BooleanField(
        label=_("Possible medical risk: send to risk management"),
        help_text=_("Once sent, only risk managers can read the case."),
        required=False,
    )
    platform = forms.ChoiceField(
        label=_("Platform"), choices=_choices(Case.Platform.choices, _("Choose")), required=False
    )
    post_public = forms.TypedChoiceField(
        label=_("Was the post public?"),
        choices=[("", _("Choose")), ("1", _("Public")), ("0", _("Private (a direct message or closed group)"))],
        coerce=lambda value: value == "1",
        empty_value=None,
        required=False,
    )
    post_url = forms.CharField(label=_("Post address"), max_length=500, required=False)
    handle = forms.CharField(label=_("Handle"), max_length=120, required=False)
    screenshot = forms.FileField(label=_("Screenshot of the post (optional)"), required=False, allow_empty_file=True)
    how_learned = forms.CharField(
        label=_("How it came to us"),
        max_length=500,
        required=False,
        help_text=_("Say how the organisation learned of it. Kept for the case team only."),
    )

    def __init__(self, *args, categories=(), sites=(), service_lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        from portal_social.core import files

        self.fields["screenshot"].help_text = files.describe_allowed()
        self.fields["categories"].choices = [(str(pk), name) for pk, name in categories]
        self.fields["site"].choices = _choices([(str(pk), n) for pk, n in sites], _("Not about a site"))
        self.fields["service_line"].choices = _choices([(str(pk), n) for pk, n in service_lines], _("None"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Case.Status.choices, label=_("Move to"))
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=_choices(Case.Outcome.choices, _("Choose when resolving")), required=False
    )
    note = forms.CharField(
        label=_("Note (internal)"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note (internal)"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact = forms.ChoiceField(
        label=_("Contact attempt"),
        required=False,
        choices=[("", _("No contact attempt: a note only"))]
        + [
            (f"{method}:{result}", f"{method_label}: {result_label}")
            for method, method_label in Case.ContactMethod.choices
            for result, result_label in (
                ("reached", _("reached")),
                ("no_answer", _("no answer")),
                ("left_message", _("left a message")),
            )
        ],
    )


class RecoveryForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was done"), choices=_choices(RecoveryAction.Kind.choices, _("Choose")))
    note = forms.CharField(label=_("Details (internal)"), required=False, max_length=5000)


class AssignForm(forms.Form):
    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Team queue (nobody)"))] + [(str(pk), name) for pk, name in people]


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How well did we put things right?"),
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5."), "invalid_choice": _("Choose from 1 to 5.")},
    )


class ClassifyForm(forms.Form):
    """Classify a case again: type (a grievance needs a written response), severity and categories."""

    type = forms.ChoiceField(label=_("Type"), choices=Case.Type.choices, error_messages=_CHOOSE)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, error_messages=_CHOOSE)
    categories = forms.MultipleChoiceField(
        label=_("Categories"), required=False, widget=forms.CheckboxSelectMultiple, error_messages=_CHOOSE
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(str(pk), name) for pk, name in categories]


class LetterForm(ActionErrorsMixin, forms.Form):
    """A grievance's written response: who to contact, the steps taken, the results, the date completed."""

    contact_person = forms.CharField(
        label=_("Contact person"),
        max_length=200,
        help_text=_("A name and work phone number the patient can use."),
        error_messages={"required": _("Name the person the patient can contact.")},
    )
    steps = forms.CharField(
        label=_("Steps taken to investigate"),
        max_length=5000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Say what was done to investigate.")},
    )
    results = forms.CharField(
        label=_("Results"),
        max_length=5000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Say what was found and what will change.")},
    )
    completed_on = forms.DateField(
        label=_("Date completed"),
        error_messages={"required": _("Enter the date the work was completed."), "invalid": _("Enter a real date.")},
    )
    template = forms.ChoiceField(label=_("Letter wording"), required=False, error_messages=_CHOOSE)

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = _choices([(str(pk), name) for pk, name in templates], _("Default wording"))
