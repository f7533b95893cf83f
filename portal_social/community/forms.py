"""Forms for the community pages: they collect input; the actions validate it again and decide."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from portal_social.community.models import TITLE_MAX_LENGTH, PostFlag
from portal_social.core.forms import ActionErrorsMixin, FilesField, OneUseTokenMixin

__all__ = ["FlagForm", "HandleForm", "ReplyForm", "ThreadForm"]


class HandleForm(ActionErrorsMixin, forms.Form):
    handle = forms.CharField(
        label=_("Community name"),
        max_length=30,
        help_text=_(
            "3 to 30 letters, digits, dots, dashes or underscores. Other members see this name, never your own name."
        ),
        error_messages={"required": _("Choose a community name.")},
    )


class ReplyForm(ActionErrorsMixin, OneUseTokenMixin, forms.Form):
    """A post: its Markdown text, "post anyway" once personal details were found, and a one-use token.

    ``submission`` is a fresh uuid on every new form: the action creates one
    post per author and token, so a form sent twice makes one post. A token
    that is not a uuid is dropped rather than refused (the post goes ahead
    without that protection; nothing the author wrote is lost).
    """

    body = forms.CharField(
        label=_("Your post"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "You can use Markdown: *italic*, **bold**, lists and links. Never include names, phone numbers, "
            "dates of birth or other personal details: other members read what you write."
        ),
        error_messages={"required": _("Write something to post.")},
    )
    confirm_phi = forms.BooleanField(
        label=_("Post anyway: a moderator reads it before it appears"),
        required=False,
    )
    #: The post this reply quotes (its id; the action keeps it only for a post the author can see).
    quote = forms.CharField(widget=forms.HiddenInput, required=False)
    #: Clinician spaces only: files shared with the post (the action checks kinds, sizes and count).
    files = FilesField(label=_("Share files (optional)"), allow_empty_file=True)

    def __init__(self, *args, community=None, **kwargs):
        super().__init__(*args, **kwargs)
        from portal_social.community.actions import space_files
        from portal_social.core import files

        if community is None or not space_files.takes_files(community):
            del self.fields["files"]
        else:
            self.fields["files"].help_text = files.describe_allowed_files(space_files.limits())
        if community is not None and community.kind == community.Kind.SPACE:
            # Colleagues read a space: the words of a patient community do not fit it.
            self.fields["body"].help_text = (
                _(
                    "You can use Markdown. This space permits case discussion: write what your colleagues need "
                    "about a patient, and no more."
                )
                if community.phi_permitted
                else _("You can use Markdown. This space is not for case discussion: keep patient details out.")
            )
            self.fields["confirm_phi"].label = _("Post it as written: the patient details are needed here")

    def clean_quote(self) -> uuid.UUID | None:
        value = self.cleaned_data.get("quote") or ""
        try:
            return uuid.UUID(value) if len(value) <= 36 else None
        except ValueError:
            return None


class ThreadForm(ReplyForm):
    """A new thread: a title (never personal details, even held) and its opening post."""

    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX_LENGTH,
        help_text=_("Everyone who can see this community sees the title: keep personal details out of it."),
        error_messages={"required": _("Give your thread a title.")},
    )
    #: In a case-discussion space: the patient the case is about (optional; encrypted; never shown in lists).
    patient_reference = forms.CharField(
        label=_("Patient (medical record number, optional)"),
        max_length=40,
        required=False,
        help_text=_("Each colleague's reading of the thread is then recorded against this patient's record."),
    )
    #: A space's owners and moderators: pinned, and every member is told.
    announcement = forms.BooleanField(
        label=_("Post it as an announcement: pinned, and every member of the space is told"),
        required=False,
    )
    field_order = ["title", "body", "confirm_phi", "patient_reference", "files", "announcement", "submission"]
    quote = None  # a new thread quotes nothing

    def __init__(self, *args, community=None, may_announce: bool = False, **kwargs):
        super().__init__(*args, community=community, **kwargs)
        if not may_announce:
            del self.fields["announcement"]
        if community is None or not community.phi_permitted:
            del self.fields["patient_reference"]
        else:
            self.fields["title"].help_text = _(
                "Members of this space see the title in lists: keep patient details out."
            )

    def clean_patient_reference(self) -> str:
        value = " ".join(str(self.cleaned_data.get("patient_reference") or "").split())
        if value and not all(ch.isalnum() or ch in "-_." for ch in value):
            raise forms.ValidationError(_("Enter the record number only: letters, digits and dashes."))
        return value


class FlagForm(forms.Form):
    """Why a member flags a post: a fixed reason, and optionally a few words for the moderators."""

    reason = forms.ChoiceField(
        label=_("Why are you flagging this post?"),
        choices=PostFlag.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why you are flagging this post.")},
    )
    note = forms.CharField(
        label=_("Anything the moderators should know (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, own: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if own:
            # On one's own post, the only flag is asking the patient experience team to follow up.
            reason = self.fields["reason"]
            reason.choices = [(PostFlag.Reason.CARE_COMPLAINT, PostFlag.Reason.CARE_COMPLAINT.label)]
            reason.initial = PostFlag.Reason.CARE_COMPLAINT
            reason.label = _("What would you like the patient experience team to know?")


class ReferralForm(ThreadForm):
    """A referral request in a clinician space: the specialty asked, how soon, and the question."""

    referral_specialty = forms.ModelChoiceField(
        label=_("Specialty asked"),
        queryset=None,
        empty_label=_("Choose a specialty"),
        error_messages={
            "required": _("Choose the specialty you are asking."),
            "invalid_choice": _("Choose a specialty from the list."),
        },
    )
    referral_urgency = forms.ChoiceField(
        label=_("How soon"),
        choices=[],
        error_messages={"invalid_choice": _("Choose how soon from the list.")},
    )
    field_order = [
        "referral_specialty",
        "referral_urgency",
        "title",
        "body",
        "confirm_phi",
        "patient_reference",
        "files",
        "submission",
    ]

    def __init__(self, *args, community=None, may_announce: bool = False, **kwargs):
        from portal_social.community.models import Thread
        from portal_social.profiles.models import Specialty

        super().__init__(*args, community=community, **kwargs)  # a referral request is never an announcement
        self.fields["referral_specialty"].queryset = Specialty.objects.order_by("name")
        self.fields["referral_urgency"].choices = Thread.Urgency.choices
        self.fields["referral_urgency"].initial = Thread.Urgency.ROUTINE
        self.fields["title"].label = _("Your question in a line")
        self.fields["body"].label = _("The question, with what the colleague needs to know")
