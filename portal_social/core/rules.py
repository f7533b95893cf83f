"""Access rules for the core models (caregiver links, the audit log).

Imported by the app's ``ready()`` so the rules are registered once.
"""

from __future__ import annotations

from django.db.models import Q

from portal_social.core import access
from portal_social.core.models import (
    AuditEvent,
    CaregiverRelation,
    CaregiverRelationGroupObjectPermission,
    CaregiverRelationUserObjectPermission,
)

MANAGE_CAREGIVERS = "portal_social.manage_caregivers"


@access.rule(CaregiverRelation, "view")
def _party_or_manager_may_view_link(user, relation: CaregiverRelation) -> bool:
    return (
        user.pk in (relation.patient_id, relation.caregiver_id)
        or access.holds(user, MANAGE_CAREGIVERS)
        or access.has_object_grant(user, "portal_social.view_caregiverrelation", relation)
    )


@access.rule(CaregiverRelation, "change")
def _patient_or_manager_may_change_link(user, relation: CaregiverRelation) -> bool:
    return (
        user.pk == relation.patient_id
        or access.holds(user, MANAGE_CAREGIVERS)
        or access.has_object_grant(user, "portal_social.change_caregiverrelation", relation)
    )


@access.rule(CaregiverRelation, "end")
def _patient_caregiver_or_manager_may_end_link(user, relation: CaregiverRelation) -> bool:
    # A caregiver may step down; only the patient (or a manager) may widen or move a link ("change").
    return user.pk == relation.caregiver_id or _patient_or_manager_may_change_link(user, relation)


@access.scope(CaregiverRelation)
def _links_visible_to(user) -> Q:
    if access.holds(user, MANAGE_CAREGIVERS):
        return Q()
    granted = CaregiverRelationUserObjectPermission.objects.filter(
        user=user, permission__codename="view_caregiverrelation"
    ).values("content_object_id")
    granted_to_groups = CaregiverRelationGroupObjectPermission.objects.filter(
        group__user=user, permission__codename="view_caregiverrelation"
    ).values("content_object_id")
    return Q(patient=user) | Q(caregiver=user) | Q(pk__in=granted) | Q(pk__in=granted_to_groups)


@access.rule(AuditEvent, "view")
def _auditors_may_view_events(user, event: AuditEvent) -> bool:
    return access.holds(user, "portal_social.view_audit_log")


@access.scope(AuditEvent)
def _events_visible_to(user) -> Q:
    return Q() if access.holds(user, "portal_social.view_audit_log") else Q(pk__in=[])
