"""Secure messaging in the Wagtail admin: portal administrators set up care-team pools, who answers them,
and which patients may write to them (when the EHR does not decide that through ``PortalAdapter.can_message``).

Conversations themselves are never shown here: staff read them in the team inbox at ``/messages/``, where
every opening is audited with the patient.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal_social.messaging import events
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


register_snippet(MessagingViewSetGroup)


# Every change made here is audited, with who made it (a member taken off a pool loses its streams at once:
# see messaging.actions).

_EVENTS = {CarePool: events.POOL, PoolMember: events.POOL_MEMBERS, PoolPatient: events.POOL_PATIENTS}


def _details(instance) -> dict:
    if isinstance(instance, CarePool):
        return {"pool": str(instance.pk), "active": instance.active}
    details = {"pool": str(instance.pool_id)}
    if isinstance(instance, PoolMember):
        details["member"] = instance.user_id
    return details


def _record(request, instances, change: str) -> None:
    for instance in instances:
        event = _EVENTS.get(type(instance))
        if event is None:
            continue
        patient = instance.patient_id if isinstance(instance, PoolPatient) else None
        event.record(
            actor=request.user,
            target_type=type(instance)._meta.model_name,
            target_id=str(instance.pk),
            patient=patient,
            request=request,
            details={**_details(instance), "change": change},
        )


@hooks.register("after_create_snippet")
def _created(request, instance):
    _record(request, [instance], "added")


@hooks.register("after_edit_snippet")
def _edited(request, instance):
    _record(request, [instance], "changed")


@hooks.register("after_delete_snippet")
def _deleted(request, instances):
    _record(request, instances, "removed")
