"""Secure messaging forms: they collect input; the actions validate it again and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal_social.core.forms import ActionErrorsMixin, FilesField, OneUseTokenMixin
from portal_social.messaging.models import SUBJECT_MAX_LENGTH


class ReplyForm(ActionErrorsMixin, OneUseTokenMixin):
    body = forms.CharField(
        label=_("Your message"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write your message.")},
    )
    #: Care team only: the patient's replies then come straight to the sender.
    reply_directly = forms.BooleanField(label=_("Reply directly to me"), required=False)
    #: Files (a list); the action checks how many, their kinds by content and their sizes (core.files).
    attachment = FilesField(label=_("Attach files (optional)"), allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from portal_social.core import files

        if not files.allowed_types():
            del self.fields["attachment"]
        else:
            self.fields["attachment"].help_text = files.describe_allowed_files()


class ComposeForm(ReplyForm):
    """A new conversation: for whom (a caregiver may write for several people), to which team, about what."""

    patient = forms.ChoiceField(
        label=_("Who is this message about?"),
        error_messages={
            "required": _("Choose who this message is about."),
            "invalid_choice": _("Choose who this message is about."),
        },
    )
    pool = forms.ChoiceField(
        label=_("Send to"),
        error_messages={"required": _("Choose a care team."), "invalid_choice": _("Choose a care team.")},
    )
    topic = forms.ChoiceField(
        label=_("Topic"),
        error_messages={
            "required": _("Choose what your message is about."),
            "invalid_choice": _("Choose what your message is about."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX_LENGTH,
        error_messages={"required": _("Give your message a subject.")},
    )
    confidential = forms.BooleanField(
        label=_("Keep this conversation private from my caregivers"),
        help_text=_("People who help manage your care through the portal will not see it."),
        required=False,
    )
    reply_directly = None
    field_order = ["patient", "pool", "topic", "subject", "body", "attachment", "confidential", "submission"]

    def __init__(self, *args, patients=(), pools=(), topics=(), self_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [(str(pk), label) for pk, label in patients]
        self.fields["pool"].choices = [("", _("Choose a care team"))] + [(str(pk), label) for pk, label in pools]
        self.fields["topic"].choices = [("", _("Choose a topic"))] + [(key, label) for key, label in topics]
        if len(patients) == 1:
            self.fields["patient"].widget = forms.HiddenInput()
            self.initial.setdefault("patient", str(patients[0][0]))
        self.self_pk = self_pk
        if self_pk is None:
            del self.fields["confidential"]


class AwayForm(forms.Form):
    """An absence: from a date, back on a date, and the colleague who answers meanwhile."""

    delegate = forms.ChoiceField(
        label=_("Who answers your patients' messages while you are away?"),
        error_messages={"required": _("Choose a colleague."), "invalid_choice": _("Choose a colleague.")},
    )
    away_from = forms.DateField(
        label=_("Away from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the first day you are away."), "invalid": _("Enter a date.")},
    )
    back_on = forms.DateField(
        label=_("Back on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the day you are back."), "invalid": _("Enter a date.")},
    )

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].choices = [("", _("Choose a colleague"))] + [(str(pk), name) for pk, name in colleagues]

    def clean(self):
        data = super().clean()
        start, end = data.get("away_from"), data.get("back_on")
        if start and end and end <= start:
            self.add_error("back_on", _("The day you are back must be after the first day away."))
        return data
