"""Secure messaging in the Wagtail admin: portal administrators set up care-team pools, who answers them,
and which patients may write to them (when the EHR does not decide that through ``PortalAdapter.can_message``).

Conversations themselves are never shown here: staff read them in the team inbox at ``/messages/``, where
every opening is audited with the patient.
"""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal_social.core.admin_audit import audit_snippets
from portal_social.messaging import care_import_views, events
from portal_social.messaging.models import CarePool, PoolMember, PoolPatient


class CarePoolViewSet(SnippetViewSet):
    model = CarePool
    icon = "group"
    menu_label = _("Care-team pools")
    list_display = ["name", "response_days", "lead", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("calendar"),
        FieldPanel("response_days"),
        FieldPanel("lead"),
        FieldPanel("active"),
    ]


class PoolMemberViewSet(SnippetViewSet):
    model = PoolMember
    icon = "user"
    menu_label = _("Care-team members")
    list_display = ["pool", "user", "added_at"]
    list_filter = ["pool"]
    panels = [FieldPanel("pool"), FieldPanel("user")]


class PoolPatientViewSet(SnippetViewSet):
    model = PoolPatient
    icon = "link"
    menu_label = _("Care relationships")
    list_display = ["pool", "patient", "since"]
    list_filter = ["pool"]
    panels = [FieldPanel("pool"), FieldPanel("patient"), FieldPanel("since")]


class MessagingViewSetGroup(SnippetViewSetGroup):
    items = (CarePoolViewSet, PoolMemberViewSet, PoolPatientViewSet)
    menu_icon = "mail"
    menu_label = _("Secure messaging")
    menu_order = 830
    #: Menu items returned by hooks of this name join the group's menu (the care relationships import).
    submenu_hook = "register_portal_social_messaging_menu_item"


register_snippet(MessagingViewSetGroup)


# Every change made here is audited, with who made it (a member taken off a pool loses its streams at once:
# see messaging.actions).


def _details(instance) -> dict:
    if isinstance(instance, CarePool):
        return {"pool": str(instance.pk), "active": instance.active}
    details = {"pool": str(instance.pool_id)}
    if isinstance(instance, PoolMember):
        details["member"] = instance.user_id
    return details


def _describe_link(instance: PoolPatient):
    return _details(instance), instance.patient_id


audit_snippets(
    {
        CarePool: (events.POOL, _details),
        PoolMember: (events.POOL_MEMBERS, _details),
        PoolPatient: (events.POOL_PATIENTS, _describe_link),
    }
)


# Care relationships in bulk: the CSV import screen, listed in this group's menu -------------------------------


@hooks.register("register_admin_urls")
def _care_import_urls():
    return [
        path(
            "portal-social/messaging/care-relationships/import/",
            care_import_views.import_care_relationships,
            name="portal_social_care_relationships_import",
        )
    ]


@hooks.register(MessagingViewSetGroup.submenu_hook)
def _care_import_menu_item():
    return care_import_views.CareImportMenuItem(
        _("Import care relationships"),
        reverse("portal_social_care_relationships_import"),
        icon_name="upload",
        order=len(MessagingViewSetGroup.items) + 1,
    )
