"""Clinician spaces, write side: who belongs to a space, and what may leave a case-discussion space.

A space is a :class:`~portal_social.community.models.Community` of kind
``space``: only its active members who hold ``use_clinician_spaces``
(clinicians and care-team staff) see it or anything in it. Its owners and
moderators add members (an invitation: the colleague is a member at once and
is told so) and remove them; a removed member loses the space at their next
request, and their open live sockets are closed.

Containment: content of a space marked for case discussion (PHI permitted)
never goes anywhere else. Quoting one of its posts from another space or a
patient community is refused with a reason, and the attempt is recorded
(``space.containment``), naming the posts by id only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal_social.community import rules
from portal_social.community.actions._common import CommunityDenied
from portal_social.community.models import Community, Membership, Post
from portal_social.core import access, audit_events, locking, realtime
from portal_social.core.audit_events import register
from portal_social.core.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

MEMBER_ADDED = register("space.member_added", gettext_lazy("Clinician space member added"))
MEMBER_REMOVED = register("space.member_removed", gettext_lazy("Clinician space member removed"))
CONTAINMENT = register(
    "space.containment",
    gettext_lazy("Content of a case-discussion space kept from another place"),
    AuditEvent.Severity.NOTICE,
)

#: The roles an owner or moderator gives in a space.
SPACE_ROLES = (Membership.Role.MEMBER, Membership.Role.MODERATOR, Membership.Role.OWNER)


def _require_space_manager(actor, space: Community) -> None:
    if space.kind != Community.Kind.SPACE or not rules.moderates(actor, space) or not rules.may_read(actor, space):
        raise CommunityDenied()


def add_member(
    *,
    actor: AbstractBaseUser,
    space: Community,
    user: AbstractBaseUser,
    role: str = Membership.Role.MEMBER,
    request: HttpRequest | None = None,
) -> Membership:
    """Make ``user`` an active member of ``space`` with ``role`` (an owner or moderator of the space does it).

    Only people who hold ``use_clinician_spaces`` can belong to a space; only an owner makes another owner.
    Adding someone who is already a member changes their role.
    """
    _require_space_manager(actor, space)
    if role not in SPACE_ROLES:
        raise CommunityDenied(_("Choose member, moderator or owner."))
    if role == Membership.Role.OWNER and not is_owner(actor, space):
        raise CommunityDenied(_("Only an owner of the space can make someone an owner."))
    if not (user.is_active and access.holds(user, rules.USE_SPACES)):
        raise CommunityDenied(_("Only clinicians and care-team staff can belong to a clinician space."))
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=space, user=user)).first()
        if membership is None:
            membership = Membership.objects.create(community=space, user=user, role=role)
        else:
            if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
                _keep_an_owner(space, membership)
            membership.status = Membership.Status.ACTIVE
            membership.role = role
            membership.joined_at = timezone.now()
            membership.save(update_fields=["status", "role", "joined_at"])
        MEMBER_ADDED.record(actor=actor, target=space, request=request, details={"member": str(user.pk), "role": role})
    rules.forget_moderated(user)
    return membership


def remove_member(
    *, actor: AbstractBaseUser, space: Community, user: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    """End ``user``'s membership of ``space``: they lose it at their next request, and their sockets close.

    An owner or moderator removes others; anyone may leave. The last owner cannot leave or be removed.
    """
    if actor.pk != getattr(user, "pk", None):
        _require_space_manager(actor, space)
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=space, user=user)).first()
        if membership is None or membership.status != Membership.Status.ACTIVE:
            return
        if membership.role == Membership.Role.OWNER:
            _keep_an_owner(space, membership)
        membership.status = Membership.Status.LEFT
        membership.role = Membership.Role.MEMBER
        membership.save(update_fields=["status", "role"])
        MEMBER_REMOVED.record(actor=actor, target=space, request=request, details={"member": str(user.pk)})
        realtime.recheck_access_after_commit([user.pk])  # their open sockets on the space's threads close
    rules.forget_moderated(user)


def _keep_an_owner(space: Community, membership: Membership) -> None:
    others = Membership.objects.filter(
        community=space, status=Membership.Status.ACTIVE, role=Membership.Role.OWNER
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise CommunityDenied(_("A space needs an owner: make someone else an owner first."))


def is_owner(user, space: Community) -> bool:
    return Membership.objects.filter(
        community=space, user=user, status=Membership.Status.ACTIVE, role=Membership.Role.OWNER
    ).exists()


def record_case_read(*, actor: AbstractBaseUser, thread, request: HttpRequest | None = None, action: str = "view"):
    """Record ``actor``'s reading of ``thread`` as a PHI read when its space permits case discussion.

    The patient is the one the author tagged (``Thread.patient_reference``), where the portal's adapter
    knows them; the record number itself is never written to the audit trail.
    """
    community = thread.community
    if community.kind != Community.Kind.SPACE or not community.phi_permitted or not getattr(actor, "pk", None):
        return None
    patient = None
    if thread.patient_reference:
        from portal_social.adapter import get_adapter

        patient = get_adapter(request).patient_for_reference(thread.patient_reference)
    reason = "case discussion, patient tagged" if thread.patient_reference else "case discussion"
    return audit_events.phi_read(
        actor=actor, target=thread, patient=patient, action=action, request=request, reason=reason
    )


def contain(*, actor: AbstractBaseUser, quoted: Post | None, into: Community, request: HttpRequest | None = None):
    """Refuse (and record) quoting ``quoted`` into ``into`` when it comes from another case-discussion space."""
    if quoted is None:
        return
    source = quoted.thread.community
    if source.pk == into.pk or not source.phi_permitted:
        return
    CONTAINMENT.record(
        actor=actor,
        target=quoted,
        request=request,
        details={"from": str(source.pk), "into": str(into.pk), "what": "quote"},
    )
    raise CommunityDenied(
        _("A post from a case-discussion space cannot be quoted anywhere else: its patient details stay in that space.")
    )
