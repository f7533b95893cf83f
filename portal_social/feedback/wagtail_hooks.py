"""Feedback in the Wagtail admin: portal administrators set up patient-experience teams, who works them,
the category taxonomy, service lines and routing rules; PX staff edit the wording of grievance letters
and public-response templates.

A public-response template is published as the organisation speaking: it is refused, with the kinds
of detail found named, when ``core.screening`` would hold or block it as a staff public reply. A letter
template must use only the known placeholders and give every part a grievance's written response needs.

Cases themselves are never shown here: staff work them in the workspace at ``/px/``, where every
opening is audited with the patient and medical-risk details stay with risk managers.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal_social.core.admin_audit import audit_snippets
from portal_social.feedback import events
from portal_social.feedback.actions import letters
from portal_social.feedback.models import (
    Category,
    LetterTemplate,
    ResponseTemplate,
    RoutingRule,
    ServiceLine,
    Team,
    TeamMember,
)


class TeamViewSet(SnippetViewSet):
    model = Team
    icon = "group"
    menu_label = _("Teams")
    list_display = ["name", "lead", "risk_management", "fallback", "active"]
    list_filter = ["active", "risk_management"]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("lead"),
        FieldPanel("calendar"),
        FieldPanel("risk_management"),
        FieldPanel("fallback"),
        FieldPanel("active"),
    ]


class TeamMemberViewSet(SnippetViewSet):
    model = TeamMember
    icon = "user"
    menu_label = _("Team members")
    list_display = ["team", "user", "takes_cases", "on_duty"]
    list_filter = ["team", "on_duty"]
    panels = [FieldPanel("team"), FieldPanel("user"), FieldPanel("takes_cases"), FieldPanel("on_duty")]


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = _("Categories")
    list_display = ["name", "medical_risk", "active"]
    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("medical_risk"), FieldPanel("active")]


class ServiceLineViewSet(SnippetViewSet):
    model = ServiceLine
    icon = "list-ul"
    menu_label = _("Service lines")
    panels = [FieldPanel("name"), FieldPanel("slug")]


class RoutingRuleViewSet(SnippetViewSet):
    model = RoutingRule
    icon = "arrow-right"
    menu_label = _("Routing rules")
    list_display = ["position", "name", "team", "owner", "active"]
    list_filter = ["team", "active"]
    panels = [
        FieldPanel("position"),
        FieldPanel("name"),
        FieldPanel("site"),
        FieldPanel("service_line"),
        FieldPanel("category"),
        FieldPanel("min_severity"),
        FieldPanel("team"),
        FieldPanel("owner"),
        FieldPanel("active"),
    ]


class ResponseTemplateForm(WagtailAdminModelForm):
    """Refuses a reply that the staff public-reply screen would hold or block, naming what it found."""

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        refused = letters.template_refusal(body)
        if refused:
            raise ValidationError(refused, code="phi")
        return body


class LetterTemplateForm(WagtailAdminModelForm):
    """Refuses unknown placeholders, and a letter that leaves out a part the rule requires."""

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        problems = letters.letter_template_problems(body)
        if problems:
            raise ValidationError(problems, code="placeholders")
        return body


class ResponseTemplateViewSet(SnippetViewSet):
    model = ResponseTemplate
    icon = "openquote"
    menu_label = _("Public-response templates")
    list_display = ["name", "use", "active"]
    list_filter = ["use", "active"]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("use"), FieldPanel("body"), FieldPanel("active")],
        base_form_class=ResponseTemplateForm,
    )


class LetterTemplateViewSet(SnippetViewSet):
    model = LetterTemplate
    icon = "doc-full"
    menu_label = _("Grievance letters")
    list_display = ["name", "default"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel(
                "body",
                help_text=_(
                    "Placeholders: {reference} {patient_name} {received_on} {contact_person} {steps} {results} "
                    "{completed_on} {organisation}. The letter must give the contact person, the steps taken, "
                    "the results and the completion date."
                ),
            ),
            FieldPanel("default"),
        ],
        base_form_class=LetterTemplateForm,
    )


class FeedbackViewSetGroup(SnippetViewSetGroup):
    items = (
        TeamViewSet,
        TeamMemberViewSet,
        CategoryViewSet,
        ServiceLineViewSet,
        RoutingRuleViewSet,
        ResponseTemplateViewSet,
        LetterTemplateViewSet,
    )
    menu_icon = "comment"
    menu_label = _("Patient feedback")
    menu_order = 840


register_snippet(FeedbackViewSetGroup)

_MODELS = (Team, TeamMember, Category, ServiceLine, RoutingRule, LetterTemplate, ResponseTemplate)


audit_snippets({model: (events.SETUP, None) for model in _MODELS})
